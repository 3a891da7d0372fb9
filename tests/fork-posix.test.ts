// What POSIX fork users rely on: the child's output where the parent's goes,
// WNOHANG polling, signal exit statuses, close() leaving no child behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createRuntime, type Runtime } from '../host/node/index.js';
import { childProcesses, job, processAlive, waitFor, within } from './helpers.js';

const forkRuntime = (): Promise<Runtime> => createRuntime({ capacity: 8, fork: { continuation: job('fork-child'), pool: 1 } });

test('a child\'s stdout goes where its parent\'s does', () =>
  within(60_000, () => {
    const marker = `hello from the child ${process.pid}`;
    const out = execFileSync(process.execPath, [new URL('./jobs/fork-print-main.js', import.meta.url).pathname, marker], { encoding: 'utf8', timeout: 50_000 });
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

test.run();
