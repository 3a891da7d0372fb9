// The pthread layer (vms/posix, docs/EMBEDDING.md "POSIX threads"): C programs
// (tests/posix/*.c) linked with it and run on workers over the core. Each
// program checks itself and exits non-zero with a FAIL line on a violation;
// these tests assert its status and the steps it reported.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { posixForkProgram, posixProgram, runPosix } from './lib/posix-run.js';
import { waitFor, within } from './lib/helpers.js';
import { captureText } from '../vms/posix/host/capture.js';
import { ROOT } from './lib/embed-tools.js';

const posixTest = (name: string, program: string, ms: number, fn: (wasm: string) => Promise<void>): void => {
  test(name, async () => {
    const wasm = posixProgram(program);
    if (wasm) await within(ms, () => fn(wasm), name);
  });
};

posixTest('a program on the layer imports only its memory, the core, the layer\'s host calls and WASI', 'fork', 60_000, async (wasm) => {
  const program = new WebAssembly.Module(fs.readFileSync(wasm));
  const core = new WebAssembly.Module(fs.readFileSync(path.join(ROOT, 'build', 'core.wasm')));
  const coreExports = new Set(WebAssembly.Module.exports(core).map((e) => e.name));
  const layer: Record<string, string[]> = {
    wtp: ['spawn', 'unwind'], wtp_fork: ['fork', 'fork_here', 'error', 'waitpid', 'wait_any', 'kill', 'getpid', 'getppid'],
    wtp_io: ['pipe', 'spawn', 'kill', 'fork_pipes', 'fork_pipes_release', 'inherit_pipes'],
  };
  for (const i of WebAssembly.Module.imports(program)) {
    const where = `${i.module}.${i.name}`;
    if (i.module === 'env') assert.is(where, 'env.memory');
    else if (i.module === 'core') assert.ok(coreExports.has(i.name), `${where} is no export of core.wasm`);
    else if (i.module in layer) assert.ok(layer[i.module].includes(i.name), where);
    else assert.is(i.module, 'wasi_snapshot_preview1', where);
  }
  const exports = new Set(WebAssembly.Module.exports(program).map((e) => e.name));
  for (const e of ['wtp_set_self', 'wtp_thread_entry', 'wtp_area_new', 'wtp_area_tls', 'wtp_area_stack_top', 'wtp_main_tls',
    'wtp_after_fork_child', 'wtp_command', 'wtp_fork_child', '__wasm_init_tls', '__tls_base', '__stack_pointer']) assert.ok(exports.has(e), e);
});

function steps(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.slice(3));
}

posixTest('create, join, detach, exit values, attributes, once, keys, per-thread errno, sleeps, main\'s pthread_exit', 'threads', 120_000, async (wasm) => {
  const r = await runPosix(wasm);
  assert.is(r.status, 0, r.out);
  assert.equal(steps(r.out), ['create-join', 'exit', 'attributes', 'detach', 'self', 'once', 'keys', 'errno', 'sleep']);
  assert.ok(r.out.endsWith('done\n'), r.out);
});

posixTest('mutex kinds and their error codes, condvars on both clocks, rwlocks, semaphores', 'locks', 120_000, async (wasm) => {
  const r = await runPosix(wasm);
  assert.is(r.status, 0, r.out);
  assert.equal(steps(r.out), ['normal', 'errorcheck', 'recursive', 'contention', 'cond-timeout', 'cond-wake', 'rwlock', 'semaphore']);
});

posixTest('malloc storm, stdio lines and files from 4 threads at once', 'libc', 180_000, async (wasm) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-libc-'));
  try {
    const r = await runPosix(wasm, [dir]);
    assert.is(r.status, 0, r.out);
    assert.equal(steps(r.out), ['malloc-storm', 'stdio', 'files']);
    // every line whole, each thread's in its own order
    const lines = r.out.split('\n').filter((l) => l.startsWith('line '));
    assert.is(lines.length, 4 * 300);
    const next = [0, 0, 0, 0];
    for (const l of lines) {
      const m = /^line t(\d) n(\d+) abcdefghijklmnopqrstuvwxyz$/.exec(l);
      assert.ok(m, `torn line: ${JSON.stringify(l)}`);
      assert.is(Number(m![2]), next[Number(m![1])]++);
    }
    assert.equal(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

posixTest('a stop-the-world parks threads blocked in a mutex, a condvar, a semaphore and a join', 'stop', 120_000, async (wasm) => {
  const r = await runPosix(wasm);
  assert.is(r.status, 0, r.out);
  assert.equal(steps(r.out), ['blocked', 'stopped', 'resumed']);
});

posixTest('a stop-the-world from the host parks every thread of the program, blocked or spinning, and resumes them', 'stop', 120_000, async (wasm) => {
  const r = await runPosix(wasm, ['host'], async (p, capture) => {
    let word = 0;
    await waitFor(() => { word = Number(/word (\d+)\n/.exec(captureText(capture))?.[1] ?? 0); return word > 0; }, 60_000, 'the program to block its threads');
    for (let round = 0; round < 10; round++) {
      p.rt.stopTheWorld({ timeoutMs: 5000 });
      try {
        const others = p.rt.threadStates().filter((s) => s.handle !== p.rt.main.handle);
        assert.is(others.length, 8); // main() and its seven threads
        for (const s of others) assert.is(s.state, 'SUSPENDED', JSON.stringify(s));
      } finally {
        p.rt.startTheWorld();
      }
    }
    const cell = new Int32Array(p.rt.memory.buffer, word, 1);
    Atomics.store(cell, 0, 1);
    Atomics.notify(cell, 0);
  });
  assert.is(r.status, 0, r.out);
  assert.equal(steps(r.out), ['blocked', 'resumed']);
});

posixTest('a thread that never polls is stopped through its signal words; its wait for a taker ends at the stop\'s end, or never begins after a timeout', 'guard', 120_000, async (wasm) => {
  const r = await runPosix(wasm);
  assert.is(r.status, 0, r.out);
  assert.equal(steps(r.out), ['guard', 'stopped', 'stale']);
  assert.ok(r.out.endsWith('done\n'), r.out);
});

posixTest('a fork while 3 threads hammer malloc and stdio: each child allocates and prints, the parent goes on; own pids, kill', 'fork', 180_000, async (wasm) => {
  const r = await runPosix(wasm);
  assert.is(r.status, 0, r.out.slice(-2000));
  assert.equal(steps(r.out), ['forks', 'joined', 'kill']);
  // the storm's lines stayed whole across the forks
  for (const l of r.out.split('\n').filter((x) => x.startsWith('storm'))) assert.match(l, /^storm \d \d+$/);
});

for (const forkIsolation of ['process', 'thread'] as const) {
  posixTest(`${forkIsolation} isolation: in a fork child a thread that a thread started starts at once, and _exit on any thread ends the child with that status, its carrier left clean`,
    'fork-child-threads', 120_000, async (wasm) => {
      // the fork timeline (host/fork/trace.ts), read by the carriers this run starts: a carrier writes "C exit
      // <status>" only when its child left nothing behind and it hands itself back for the next (host/node/fork-child.ts)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-fork-child-threads-'));
      const trace = path.join(dir, 'fork.trace');
      process.env.WASM_THREADS_FORK_TRACE = trace;
      let r;
      try {
        r = await runPosix(wasm, [], undefined, { forkIsolation });
      } finally {
        delete process.env.WASM_THREADS_FORK_TRACE;
      }
      assert.is(r.status, 0, r.out);
      assert.equal(steps(r.out), ['nested', 'exit', 'again']);
      assert.match(fs.readFileSync(trace, 'utf8'), / C exit 9\n/);
      fs.rmSync(dir, { recursive: true, force: true });
    });
}

test('fork() from a qsort comparator, from a thread while two hammer malloc, and reaped by wait(): the fork build step', async () => {
  await within(300_000, async () => {
    const wasm = await posixForkProgram('fork-anywhere');
    if (!wasm) return;
    const r = await runPosix(wasm);
    assert.is(r.status, 0, r.out.slice(-2000));
    assert.equal(steps(r.out), ['qsort', 'thread', 'wait']);
  }, 'fork-anywhere');
});

for (const forkIsolation of ['process', 'thread'] as const) {
  test(`${forkIsolation} isolation: a fork child has its parent's pipes, both ways, past a ring's size, through a thread's fork and a grandchild`, async () => {
    await within(240_000, async () => {
      const wasm = await posixForkProgram('fork-pipes');
      if (!wasm) return;
      const r = await runPosix(wasm, [], undefined, { forkIsolation });
      assert.is(r.status, 0, r.out.slice(-2000));
      assert.equal(steps(r.out), ['child-writes', 'parent-writes', 'unread', 'grandchild', 'nonblocking', 'thread']);
    }, `fork-pipes (${forkIsolation})`);
  });
}

test('fork() in a module without the fork build step fails with ENOTSUP and the host\'s reason; the parent goes on', async () => {
  await within(120_000, async () => {
    const wasm = posixProgram('fork-anywhere');
    if (!wasm) return;
    const r = await runPosix(wasm);
    assert.is(r.status, 1);
    assert.match(r.out, /FAIL .*fork-anywhere\.c:\d+: pid >= 0/);
  }, 'fork-anywhere without the step');
});

test.run();
