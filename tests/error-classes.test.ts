// Every code through every host operation that can raise it: a core whose one
// export returns the code (the rest succeed) is put under the host's objects,
// each operation is called, and its error must be the class abi.json's tables
// give that code in the operation's domain, with the code and number intact.
// The domains are stated here, per operation, not read from the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXPORTS } from '../host/abi.generated.js';
import {
  ERRNO, ERROR_CLASSES, ERROR_CLASS_PARENTS, ERROR_TABLE, ForkError, LockOwnerDeadError, StopBusyError, StopTimeoutError,
  WasmThreadsError, classFor, type ErrorCode, type ErrorDomain,
} from '../host/errors.js';
import { createSharedMemory, type CoreExports } from '../host/core.js';
import { ST_DETACHED, LOCKS, LOCK_SIZE } from '../host/layout.js';
import { RegisteredThread } from '../host/thread.js';
import { CacheEntry, Mutex } from '../host/handles.js';
import { createRuntime, outcome, within } from './lib/helpers.js';
import { readFileSync } from 'node:fs';

const HANDLE = (1 << 8) | 0;
const LOCK = 3;

/** A core on which every call succeeds except `failing`, which returns `code`. */
function fakeCore(failing: string, code: number): CoreExports {
  const ok: Record<string, (...a: number[]) => number | bigint> = {
    thread_state: () => ST_DETACHED,
    capacity: () => 4,
    lock_addr: (id) => LOCKS + id * LOCK_SIZE,
    cache_read: () => 0n,
    straggler_count: () => 0,
    // the begin waits (so the driver asks where) when the failing call is the wait's address
    stop_try_begin: () => (failing === 'stop_wait_addr' ? ERRNO.E_WOULD_BLOCK : 0),
  };
  return new Proxy({} as CoreExports, {
    get: (_, name: string) => (name === failing ? () => (name === 'cache_read' ? BigInt(code) : code) : ok[name] ?? (() => 0)),
  });
}

interface Op { name: string; export: string; domain: ErrorDomain; call: (t: RegisteredThread) => unknown; handled?: ErrorCode[] }

// Codes an operation answers itself (a retry, a wait) rather than throwing.
const RETRIED: ErrorCode[] = ['E_WOULD_BLOCK'];
const OPS: Op[] = [
  { name: 'state', export: 'thread_state', domain: 'thread', call: (t) => t.state },
  { name: 'poll', export: 'poll', domain: 'thread', call: (t) => t.poll() },
  { name: 'attach', export: 'attach', domain: 'thread', call: (t) => t.attach() },
  { name: 'attachAsync', export: 'try_attach', domain: 'thread', call: (t) => t.attachAsync(), handled: RETRIED },
  { name: 'detach', export: 'detach', domain: 'thread', call: (t) => t.detach() },
  { name: 'stopTheWorld', export: 'stop_try_begin', domain: 'stop', call: (t) => t.stopTheWorld({ timeoutMs: 0 }), handled: RETRIED },
  { name: 'stopTheWorldAsync', export: 'stop_try_begin', domain: 'stop', call: (t) => t.stopTheWorldAsync({ timeoutMs: 0 }), handled: RETRIED },
  { name: 'stopTheWorld', export: 'stop_arm', domain: 'stop', call: (t) => t.stopTheWorld() },
  { name: 'stopTheWorldAsync', export: 'stop_arm', domain: 'stop', call: (t) => t.stopTheWorldAsync() },
  { name: 'stopTheWorld', export: 'stop_wait_addr', domain: 'stop', call: (t) => t.stopTheWorld() },
  { name: 'stopTheWorld', export: 'stop_step', domain: 'stop', call: (t) => t.stopTheWorld() },
  { name: 'stopTheWorldAsync', export: 'stop_step', domain: 'stop', call: (t) => t.stopTheWorldAsync() },
  { name: 'startTheWorld', export: 'start', domain: 'stop', call: (t) => t.startTheWorld() },
  { name: 'startTheWorldAsync', export: 'start_try', domain: 'stop', call: (t) => t.startTheWorldAsync(), handled: RETRIED },
  { name: 'lock', export: 'lock_acquire', domain: 'lock', call: (t) => t.lock(LOCK, { timeoutMs: 0 }) },
  { name: 'lock', export: 'lock_acquire', domain: 'lock', call: (t) => t.lock(LOCK) },
  { name: 'tryLock', export: 'lock_acquire', domain: 'lock', call: (t) => t.tryLock(LOCK), handled: RETRIED },
  { name: 'lockAsync', export: 'lock_try_flagged', domain: 'lock', call: (t) => t.lockAsync(LOCK), handled: RETRIED },
  { name: 'lockAsync', export: 'lock_addr', domain: 'lock', call: (t) => t.lockAsync(LOCK) },
  { name: 'unlock', export: 'lock_release', domain: 'lock', call: (t) => t.unlock(LOCK) },
  { name: 'consistent', export: 'lock_consistent', domain: 'lock', call: (t) => t.consistent(LOCK) },
  { name: 'mutex', export: 'lock_addr', domain: 'lock', call: (t) => new Mutex(t, LOCK) },
  { name: 'Mutex.owner', export: 'lock_owner', domain: 'lock', call: (t) => new Mutex(t, LOCK).owner },
  { name: 'CacheEntry.read', export: 'cache_read', domain: 'cache', call: (t) => new CacheEntry(t, 5).read(1, 1) },
  { name: 'CacheEntry.write', export: 'cache_write', domain: 'cache', call: (t) => new CacheEntry(t, 5).write(1, 1, 1) },
  { name: 'CacheEntry.invalidate', export: 'cache_invalidate', domain: 'cache', call: (t) => new CacheEntry(t, 5).invalidate() },
];

const documented = (name: string): ErrorCode[] => EXPORTS.find((x) => x.name === name)!.errors as ErrorCode[];

function expectClass(e: unknown, code: ErrorCode, domain: ErrorDomain, where: string): void {
  const cls = classFor(ERRNO[code], domain);
  assert.instance(e, WasmThreadsError, `${where}: a WasmThreadsError, got ${String(e)}`);
  assert.instance(e, ERROR_CLASSES[cls] as unknown as typeof WasmThreadsError, `${where}: ${cls}, got ${(e as Error).constructor.name}`);
  assert.is((e as Error).constructor.name, cls, where);
  assert.is((e as WasmThreadsError).code, code, where);
  assert.is((e as WasmThreadsError).errno, ERRNO[code], where);
}

test('every documented code of every export the thread API calls throws the class of its operation', async () => {
  const memory = createSharedMemory();
  let cases = 0;
  for (const op of OPS) {
    for (const code of documented(op.export)) {
      if (op.handled?.includes(code)) continue;
      const t = new RegisteredThread(fakeCore(op.export, ERRNO[code]), memory, HANDLE, true);
      const where = `${op.name} (${op.export} → ${code})`;
      const e = await outcome(() => op.call(t));
      expectClass(e, code, op.domain, where);
      if (code === 'E_OWNER_DEAD') assert.is((e as LockOwnerDeadError).lockId, LOCK, `${where}: the lock it names`);
      cases++;
    }
  }
  assert.ok(cases > 80, `${cases} cases`);
});

test('the operations the runtime calls itself: createLock, destroyLock, resetStats', () =>
  within(10_000, async () => {
    const rt = await createRuntime();
    const real = rt.core;
    try {
      const ops: { name: string; export: string; domain: ErrorDomain; call: () => unknown }[] = [
        { name: 'createLock', export: 'lock_create', domain: 'lock', call: () => rt.createLock() },
        { name: 'destroyLock', export: 'lock_destroy', domain: 'lock', call: () => rt.destroyLock(LOCK) },
        { name: 'resetStats', export: 'stats_reset', domain: 'stats', call: () => rt.resetStats() },
      ];
      for (const op of ops) {
        for (const code of documented(op.export)) {
          (rt as { core: CoreExports }).core = fakeCore(op.export, ERRNO[code]);
          try {
            expectClass(await outcome(op.call), code, op.domain, `${op.name} (${op.export} → ${code})`);
          } finally {
            (rt as { core: CoreExports }).core = real;
          }
        }
      }
    } finally {
      await rt.close();
    }
  }));

test('the stop driver passes on the deadline the steps decide: E_BUSY from the begin a StopBusyError, E_TIMEOUT from a step a StopTimeoutError naming the stragglers', async () => {
  const memory = createSharedMemory();
  for (const run of [(t: RegisteredThread) => t.stopTheWorld({ timeoutMs: 0 }), (t: RegisteredThread) => t.stopTheWorldAsync({ timeoutMs: 0 })]) {
    const busy = new RegisteredThread(fakeCore('stop_try_begin', ERRNO.E_BUSY), memory, HANDLE, true);
    expectClass(await outcome(() => run(busy)), 'E_BUSY', 'stop', 'held stop');
    assert.instance(await outcome(() => run(busy)), StopBusyError);
    const straggler = (2 << 8) | 1;
    let abandoned = 0;
    const core = new Proxy({} as CoreExports, {
      get: (_, name: string) => ({
        stop_step: () => ERRNO.E_TIMEOUT, stop_abandon: () => ++abandoned && 1, stop_abandon_try: () => ++abandoned && 1,
        straggler_count: () => 1, straggler: () => straggler, thread_state: () => ST_DETACHED, capacity: () => 4,
      } as Record<string, () => number>)[name] ?? (() => 0),
    });
    const e = await outcome(() => run(new RegisteredThread(core, memory, HANDLE, true)));
    expectClass(e, 'E_TIMEOUT', 'stop', 'stragglers');
    assert.equal((e as StopTimeoutError).stragglers, [straggler]);
    assert.is(abandoned, 1, 'the stop was abandoned before the error');
  }
});

test('an aborted async stop is an AbortedError, before the stop is taken and after (the stop abandoned)', async () => {
  const memory = createSharedMemory();
  const ac = new AbortController();
  ac.abort(new Error('enough'));
  const held = new RegisteredThread(fakeCore('stop_try_begin', ERRNO.E_WOULD_BLOCK), memory, HANDLE, true);
  expectClass(await outcome(() => held.stopTheWorldAsync({ signal: ac.signal })), 'E_ABORTED', 'stop', 'before the stop');
  let abandoned = 0;
  const pending = new Proxy({} as CoreExports, {
    get: (_, name: string) => ({ stop_step: () => { ac2.abort(); return 1; }, stop_abandon_try: () => { abandoned++; return 0; }, thread_state: () => ST_DETACHED, capacity: () => 4 } as Record<string, () => number>)[name] ?? (() => 0),
  });
  const ac2 = new AbortController();
  expectClass(await outcome(() => new RegisteredThread(pending, memory, HANDLE, true).stopTheWorldAsync({ signal: ac2.signal })), 'E_ABORTED', 'stop', 'after');
  assert.is(abandoned, 1, 'the stop was abandoned');
});

test('the reference VM\'s run codes are InterpreterErrors by the table', () => {
  for (const code of documented('interp_run')) assert.is(classFor(ERRNO[code], 'vm'), 'InterpreterError', code);
});

test('the class hierarchy is abi.json\'s: every fork failure is a ForkError; the .d.ts declares the same parents', () => {
  for (const [name, parent] of Object.entries(ERROR_CLASS_PARENTS)) {
    const C = ERROR_CLASSES[name as keyof typeof ERROR_CLASSES];
    assert.is(Object.getPrototypeOf(C).name, parent, `${name} extends ${parent}`);
  }
  for (const e of ERROR_TABLE.filter((x) => x.layer === 'fork' || ['E_AGAIN', 'E_FORK', 'E_CHILD', 'E_FORK_SERVER'].includes(x.code))) {
    const C = ERROR_CLASSES[e.className as keyof typeof ERROR_CLASSES];
    assert.ok(C.prototype instanceof ForkError || C === ForkError, `${e.code}'s class ${e.className} is a ForkError`);
  }
  const dts = readFileSync(new URL('../host/errors.d.ts', import.meta.url), 'utf8');
  for (const [name, parent] of Object.entries(ERROR_CLASS_PARENTS)) {
    const m = new RegExp(`export declare class ${name} extends (\\w+)`).exec(dts);
    assert.ok(m, `errors.d.ts declares ${name}`);
    assert.is(m![1], parent, `errors.d.ts: ${name} extends ${parent}`);
  }
});

test.run();
