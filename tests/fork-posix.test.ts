// What POSIX fork users rely on: the child's output where the parent's goes,
// WNOHANG polling, signal exit statuses, close() leaving no child behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createRuntime, type Runtime } from '../host/node/index.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIAG_QUIT as D_QUIT } from '../host/diag.js';
import { childProcesses, job, processAlive, progressOf, waitFor, within, workerIndexes } from './lib/helpers.js';

const forkRuntime = (): Promise<Runtime> => createRuntime({ capacity: 8, linked: ['diag'], fork: { continuation: job('fork-child'), pool: 1 } });

test('a runtime pays for fork only when it forks: no fork server and no child before the first fork, a worker\'s fork starts them', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ capacity: 8, threads: 2, job: job('spin'), linked: ['diag'], fork: { continuation: job('fork-child'), pool: 1 } });
    try {
      await Promise.all(rt.workers.map((w) => w.registered()));
      const i32 = new Int32Array(rt.memory.buffer);
      const idx = workerIndexes(rt);
      await waitFor(() => idx.every((i) => progressOf(rt, i) > 0), 20_000, 'the workers to spin');
      assert.equal(rt.forkStats(), { forks: 0, coldForks: 0, recycledForks: 0, poolReady: 0, server: 'none' });
      assert.equal(childProcesses(), [], 'no child process before the first fork');
      Atomics.store(i32, D_QUIT >> 2, 1);
      await Promise.all(rt.workers.map((w) => w.join()));
      Atomics.store(i32, D_QUIT >> 2, 0);
      // a worker's first fork asks this thread for the server and waits for it
      const w = rt.spawn(job('forker'), { n: 1, go: D_QUIT });
      Atomics.store(i32, D_QUIT >> 2, 1);
      assert.equal(await w.join(), [10]);
      const s = rt.forkStats();
      assert.is(s.server, 'ready');
      assert.is(s.forks, 1);
      assert.is(s.coldForks, 1, 'the first fork waited for its child: cold');
    } finally {
      Atomics.store(new Int32Array(rt.memory.buffer), D_QUIT >> 2, 0);
      await rt.close({ children: 'kill' });
    }
  }));

test('a child\'s stdout goes where its parent\'s does', () =>
  within(60_000, () => {
    const marker = `hello from the child ${process.pid}`;
    const out = execFileSync(process.execPath, [...process.execArgv, new URL('./jobs/fork-print-main.js', import.meta.url).pathname, marker], { encoding: 'utf8', timeout: 50_000 });
    assert.ok(out.includes(marker), `parent's stdout: ${JSON.stringify(out)}`);
  }));

test('waitpid with noHang: undefined while the child runs, its status once it is done (both forms); a signal is 128 + n', () =>
  within(60_000, async () => {
    const rt = await forkRuntime();
    try {
      const { pid } = rt.fork({ data: { sleepMs: 60_000 } });
      assert.is(rt.waitpid(pid, { noHang: true }), undefined);
      assert.is(await rt.waitpidAsync(pid, { noHang: true }), undefined);
      assert.equal(rt.runningChildren(), [pid]);
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !processAlive(pid), 10_000, 'the child to end');
      let status: number | undefined;
      await waitFor(() => (status = rt.waitpid(pid, { noHang: true })) !== undefined, 10_000, 'the exit to be recorded');
      assert.is(status, 128 + 15);
      assert.equal(rt.runningChildren(), []);
    } finally {
      await rt.close();
    }
  }));

for (const children of ['wait', 'kill'] as const) {
  test(`close({ children: '${children}' }) leaves no child process behind`, () =>
    within(60_000, async () => {
      const base = childProcesses().length;
      const rt = await forkRuntime();
      const { pid } = rt.fork({ data: { sleepMs: children === 'wait' ? 300 : 60_000 } });
      assert.ok(processAlive(pid));
      await rt.close({ children });
      assert.not.ok(processAlive(pid), 'the child is gone once close returns');
      await waitFor(() => childProcesses().length === base, 10_000, 'every child of the runtime to be gone');
    }));
}

test('the world runs during the hand-off: only the forking thread waits for the child', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ capacity: 8, linked: ['diag'], threads: 2, job: job('spin'), fork: { continuation: job('fork-child'), pool: 1 } });
    const dir = mkdtempSync(join(tmpdir(), 'fork-handoff-'));
    try {
      const idx = workerIndexes(rt);
      const waitFile = join(dir, 'go');
      let settled = false;
      const fork = rt.forkAsync({ data: { waitFile } }).finally(() => { settled = true; });
      // the child holds its acknowledgement until the file exists: meanwhile
      // the parent's world runs, its import lock is free, and others can stop it
      await waitFor(() => rt.runningChildren().length === 1, 10_000, 'the hand-off to a child to begin');
      const before = idx.map((i) => progressOf(rt, i));
      await waitFor(() => idx.every((i, k) => progressOf(rt, i) !== before[k]) && rt.core.lock_owner(0) === 0 && rt.core.is_stopped() === 0, 10_000, 'the workers to run during the hand-off');
      rt.stopTheWorld({ timeoutMs: 5000 });
      rt.startTheWorld();
      assert.not.ok(settled, 'the fork waits for its child');
      writeFileSync(waitFile, '');
      const { pid } = await fork;
      assert.is(await rt.waitpidAsync(pid), 0);
    } finally {
      Atomics.store(new Int32Array(rt.memory.buffer), D_QUIT >> 2, 1);
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }));

test.run();
