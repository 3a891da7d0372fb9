// createRuntime validates every option up front: a typed error naming the
// option, and nothing started (no worker, no fork server).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../host/runtime.js';
import { nodePlatform } from '../host/node/platform.js';
import { InvalidArgumentError, WasmThreadsError } from '../host/errors.js';
import {
  DEFAULT_STOP_TIMEOUT_MS, FORK_OPTIONS, InvalidOptionError, RUNTIME_OPTIONS, forkChildOptions, optionsOfChild, resolveRuntimeOptions,
} from '../host/options.js';
import type { Platform } from '../host/platform.js';
import { job, within } from './lib/helpers.js';

const CONTINUATION = new URL('./jobs/fork-child.js', import.meta.url);
const MISSING = new URL('./jobs/no-such-file.js', import.meta.url);

// The Node platform, counting what it starts.
function countingPlatform(): { platform: Platform; started: () => number } {
  let n = 0;
  const platform: Platform = {
    ...nodePlatform,
    spawnWorker(init) { n++; return nodePlatform.spawnWorker(init); },
    startForkServer(init) { n++; return nodePlatform.startForkServer!(init); },
  };
  return { platform, started: () => n };
}

async function rejected(options: unknown): Promise<InvalidOptionError> {
  const { platform, started } = countingPlatform();
  let err: unknown;
  try {
    const rt = await Runtime.create(platform, options as never);
    await rt.close();
  } catch (e) {
    err = e;
  }
  assert.is(started(), 0, `nothing started for ${describe(options)}`);
  assert.instance(err, InvalidOptionError, `${describe(options)} → ${String(err)}`);
  assert.instance(err, InvalidArgumentError);
  assert.is((err as WasmThreadsError).code, 'E_ARG');
  return err as InvalidOptionError;
}

function describe(o: unknown): string {
  try {
    return JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? 'fn' : v instanceof URL ? v.href : v));
  } catch {
    return String(o);
  }
}

const HOSTILE: [unknown, string][] = [
  [{ stopTimeoutMs: -1 }, 'stopTimeoutMs'],
  [{ stopTimeoutMs: NaN }, 'stopTimeoutMs'],
  [{ stopTimeoutMs: Infinity }, 'stopTimeoutMs'],
  [{ stopTimeoutMs: '5' }, 'stopTimeoutMs'],
  [{ initialPages: 0 }, 'initialPages'],
  [{ initialPages: 3 }, 'initialPages'],
  [{ initialPages: 300 }, 'initialPages'],
  [{ initialPages: 64, maximumPages: 32 }, 'initialPages'],
  [{ initialPages: 4.5 }, 'initialPages'],
  [{ maximumPages: 65537 }, 'maximumPages'],
  [{ maximumPages: 5000 }, 'maximumPages'],
  [{ maximumPages: 4097 }, 'maximumPages'],
  [{ maximumPages: null }, 'maximumPages'],
  [{ wasm: 'bogus' }, 'wasm'],
  [{ wasm: 'file:///core.wasm' }, 'wasm'],
  [{ wasm: new URL('file:///no/such/core.wasm') }, 'wasm'],
  [{ jobData: () => 1 }, 'jobData'],
  [{ jobData: { s: Symbol('x') } }, 'jobData'],
  [{ fork: {} }, 'fork.continuation'],
  [{ fork: null }, 'fork'],
  [{ fork: 'yes' }, 'fork'],
  [{ fork: { continuation: CONTINUATION, transfer: 'bogus' } }, 'fork.transfer'],
  [{ fork: { continuation: MISSING } }, 'fork.continuation'],
  [{ fork: { continuation: 'not a url' } }, 'fork.continuation'],
  [{ fork: { continuation: CONTINUATION, pool: -1 } }, 'fork.pool'],
  [{ fork: { continuation: CONTINUATION, pool: 9 } }, 'fork.pool'], // above what the fork server keeps
  [{ fork: { continuation: CONTINUATION, exportName: 3 } }, 'fork.exportName'],
  [{ fork: { continuation: CONTINUATION, bogus: 1 } }, 'fork.bogus'],
  [{ fork: { continuation: CONTINUATION, prepareData: () => 1 } }, 'fork.prepareData'],
  [{ fork: { continuation: CONTINUATION, prepareData: { s: Symbol('x') } } }, 'fork.prepareData'],
  [{ fork: { continuation: CONTINUATION, execPath: 5 } }, 'fork.execPath'],
  [{ fork: { continuation: CONTINUATION, parentService: 5 } }, 'fork.parentService'],
  [{ fork: { continuation: CONTINUATION, parentService: 'not a url' } }, 'fork.parentService'],
  [{ fork: { continuation: CONTINUATION, parentService: MISSING } }, 'fork.parentService'],
  [{ fork: { continuation: CONTINUATION, parentService: null } }, 'fork.parentService'],
  [{ fork: { continuation: CONTINUATION, isolation: 'vm' } }, 'fork.isolation'],
  [{ capacity: 0 }, 'capacity'],
  [{ capacity: 257 }, 'capacity'],
  [{ capacity: '8' }, 'capacity'],
  [{ threads: -1 }, 'threads'],
  [{ threads: 2, capacity: 2 }, 'threads'],
  [{ threads: 1 }, 'job'],
  [{ threads: 1.5, job: job('spin') }, 'threads'],
  [{ job: 42 }, 'job'],
  [{ job: MISSING }, 'job'],
  [{ bogus: 1 }, 'bogus'],
  [{ stopTimeoutMS: 100 }, 'stopTimeoutMS'],
  [null, 'options'],
  ['capacity=4', 'options'],
  [[1, 2], 'options'],
];

test('every hostile option is refused with a typed error naming it; nothing starts', () =>
  within(60_000, async () => {
    for (const [options, option] of HOSTILE) {
      const err = await rejected(options);
      assert.is(err.option, option, `${describe(options)}: ${err.message}`);
      assert.ok(err.message.includes(option), err.message);
    }
  }));

// mulberry32: a seeded generator, so a failure names a reproducible vector
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JUNK: unknown[] = [
  undefined, null, -1, 0, 1, 3, 4, 255, 256, 4096, 65537, 1.5, NaN, Infinity, -Infinity, '', 'x', 'release', 'ipc',
  true, {}, [], () => 0, Symbol('s'), 10n, new URL('file:///nope'), MISSING, CONTINUATION, { continuation: 5 },
  { continuation: CONTINUATION, transfer: 'carrier-pigeon' }, { s: Symbol('y') },
];
const NAMES = ['threads', 'capacity', 'job', 'jobData', 'wasm', 'stopTimeoutMs', 'initialPages', 'maximumPages', 'fork', 'forks', 'timeout'];

test('seeded random option vectors: a typed error with a stable code and nothing started, or a working runtime', () =>
  within(120_000, async () => {
    const seed = 0x5eed;
    const next = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
    let refused = 0;
    let accepted = 0;
    for (let k = 0; k < 300; k++) {
      const options: Record<string, unknown> = {};
      const n = 1 + Math.floor(next() * 4);
      for (let i = 0; i < n; i++) options[pick(NAMES)] = pick(JUNK);
      // threads > 0 would start workers on success: keep accepted vectors cheap
      if (typeof options.threads === 'number' && options.threads > 0) options.threads = pick([-1, 1.5, NaN, 300]);
      if (options.fork !== undefined && typeof options.fork === 'object' && options.fork !== null) options.fork = pick([{}, null, 7]);
      const { platform, started } = countingPlatform();
      let err: unknown;
      try {
        const rt = await Runtime.create(platform, options as never);
        accepted++;
        await rt.close();
      } catch (e) {
        err = e;
      }
      if (err !== undefined) {
        refused++;
        assert.instance(err, InvalidOptionError, `seed ${seed} vector ${k} ${describe(options)}: ${String(err)}`);
        assert.is((err as WasmThreadsError).code, 'E_ARG');
        assert.is(started(), 0, `seed ${seed} vector ${k}: nothing started`);
      }
    }
    assert.ok(refused > 200, `most junk is refused (${refused} refused, ${accepted} accepted)`);
  }));

test('valid options still start a runtime', () =>
  within(30_000, async () => {
    const { platform } = countingPlatform();
    const rt = await Runtime.create(platform, {
      capacity: 4, initialPages: 8, maximumPages: 512, stopTimeoutMs: 500, wasm: 'release', jobData: { a: [1, 2] },
    });
    rt.stopTheWorld();
    rt.startTheWorld();
    await rt.close();
  }));

test('host entry points validate their arguments: stopTheWorld, lock, cache, spawn', () =>
  within(30_000, async () => {
    const rt = await Runtime.create(nodePlatform, { capacity: 4 });
    try {
      const bad = (f: () => unknown, what: string) =>
        assert.throws(f, (e: unknown) => e instanceof InvalidArgumentError && (e as WasmThreadsError).code === 'E_ARG', what);
      for (const o of [{ timeoutMs: -1 }, { timeoutMs: NaN }, { timeoutMs: '5' }, { bogus: 1 }, { signal: 'x' }]) {
        bad(() => rt.stopTheWorld(o as never), `stopTheWorld ${describe(o)}`);
      }
      await rt.stopTheWorldAsync({ timeoutMs: -5 }).then(() => assert.unreachable(), (e: unknown) => assert.instance(e, InvalidArgumentError));
      assert.is(rt.core.is_stopped(), 0, 'nothing stopped');
      for (const id of [NaN, -1, 256, 1.5, '0']) bad(() => rt.mutex(id as never), `mutex(${String(id)})`);
      bad(() => rt.createLock('bogus' as never), 'createLock');
      bad(() => rt.destroyLock(NaN), 'destroyLock');
      const m = rt.mutex(rt.createLock());
      for (const o of [{ timeoutMs: NaN }, { timeoutMs: 2 ** 40 }, { timeoutMs: 'x' }, { nope: 1 }]) bad(() => m.lock(o as never), `lock ${describe(o)}`);
      assert.is(m.owner, 0, 'no lock taken');
      for (const i of [NaN, -1, 4096, 1.5, '3']) bad(() => rt.cache(i as never), `cache(${String(i)})`);
      const c = rt.cache(3);
      bad(() => c.write(1, 2, -1), 'cache value');
      bad(() => c.write(NaN, 2, 1), 'cache version');
      bad(() => rt.spawn(42 as never), 'spawn job');
      bad(() => rt.spawn('not a url'), 'spawn job url');
      bad(() => rt.spawn(job('spin'), () => 1), 'spawn data');
      assert.is(rt.workers.length, 0, 'no worker started');
    } finally {
      await rt.close();
    }
  }));

test('one declaration: every option resolves to its default, and a fork child inherits exactly the entries with a child form', async () => {
  const o = await resolveRuntimeOptions({ fork: { continuation: CONTINUATION }, job: job('spin'), jobData: { a: 1 } }, nodePlatform);
  for (const [k, spec] of Object.entries(RUNTIME_OPTIONS)) if (k !== 'fork' && k !== 'job' && k !== 'jobData') assert.equal((o as Record<string, unknown>)[k], spec.default, k);
  assert.is(o.stopTimeoutMs, DEFAULT_STOP_TIMEOUT_MS);
  assert.is(o.fork!.isolation, 'process');
  assert.is(o.fork!.pool, 1);
  assert.instance(o.job, URL);
  const child = forkChildOptions(o as typeof o & { fork: NonNullable<typeof o.fork> });
  const given = { ...o, ...o.fork } as Record<string, unknown>;
  const inherited = [...Object.entries(RUNTIME_OPTIONS), ...Object.entries(FORK_OPTIONS)]
    .filter(([k, s]) => s.child && given[k] !== undefined).map(([k]) => k).sort();
  assert.equal(Object.keys(child).sort(), inherited, 'the child form holds the inherited options');
  assert.equal(JSON.parse(JSON.stringify(child)), child, 'the child form is JSON');
  const back = optionsOfChild(child, 512);
  assert.is(back.maximumPages, 512);
  assert.is(back.fork!.pool, 0, 'no warm pool in a child');
  assert.is(String(back.job), String(o.job));
  assert.is(back.wasm, o.wasm);
  assert.is(String(back.fork!.continuation), String(o.fork!.continuation));
});

test.run();
