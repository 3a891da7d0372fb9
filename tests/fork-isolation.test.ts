// fork() under both isolations ('process': an OS child process; 'thread': a
// worker group with its own memory in this process): the same pids, waitpid,
// statuses, hooks and failure codes; the exit status before the teardown; the
// cold forks counted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, createRuntime, type ForkOptions, type RuntimeOptions } from '../host/node/index.js';
import { nodePlatform } from '../host/node/platform.js';
import { InvalidArgumentError } from '../host/errors.js';
import { H_FORK_DEPTH } from '../host/layout.js';
import { childProcesses, job, processAlive, shutdown, waitFor, within, expectForkError } from './lib/helpers.js';
import { ForkFaults, type ForkFault } from './lib/fork-faults.js';

const dir = mkdtempSync(join(tmpdir(), 'fork-isolation-'));
let fileNo = 0;
const file = (what: string) => join(dir, `${what}-${fileNo++}`);
type Isolation = 'process' | 'thread';
const faults = new ForkFaults();

function forkRuntime(
  isolation: Isolation, opts: RuntimeOptions = {}, pool = 1, continuation = job('fork-child'), platform = nodePlatform,
): Promise<Runtime> {
  return Runtime.create(platform, { capacity: 16, linked: ['diag'], ...opts, fork: { continuation, pool, isolation } });
}

for (const isolation of ['process', 'thread'] as Isolation[]) {
  test(`${isolation}: the child continues the forking thread over the restored memory, with its hook, data and status`, () =>
    within(60_000, async () => {
      const rt = await forkRuntime(isolation, { threads: 1, job: job('spin') });
      try {
        const i32 = new Int32Array(rt.memory.buffer);
        const marker = rt.core.heap_base() + 4096;
        Atomics.store(i32, marker >> 2, 0x5eed);
        const out = file('report');
        const { pid, timings } = rt.fork({ data: { out, code: 23, counters: [] }, verify: true });
        assert.ok(pid > 0, `a pid (${pid})`);
        assert.ok(rt.runningChildren().includes(pid) || existsSync(out), 'the child runs or has run');
        assert.is(rt.waitpid(pid), 23, 'waitpid: the continuation\'s result');
        const r = JSON.parse(readFileSync(out, 'utf8'));
        assert.is(r.result, 0, 'fork result 0 in the child');
        assert.ok(r.hookRan, 'afterForkChild ran before the continuation');
        assert.is(r.forkDepth, 1);
        assert.is(r.mainHandle, rt.handle, 'the forking thread continues as the child\'s main thread');
        assert.equal(r.threads.map((t: { state: string }) => t.state), ['ATTACHED'], 'only the forking thread lives on');
        assert.is(r.stopped, 0, 'the child\'s world runs');
        assert.is(r.importLockOwner, 0, 'the import lock is free in the child');
        assert.ok(typeof r.restoredChecksum === 'number', 'verify: the child checksummed its memory');
        assert.is(typeof timings.cold, 'boolean');
        if (isolation === 'thread') assert.is(r.pid, process.pid, 'a thread child runs in this process');
        else assert.is.not(r.pid, process.pid, 'a process child is its own process');
        assert.is(Atomics.load(i32, H_FORK_DEPTH >> 2), 0, 'the parent is not a fork child');
      } finally {
        await shutdown(rt);
      }
    }));

  test(`${isolation}: nested forks, and forks from a worker`, () =>
    within(90_000, async () => {
      const rt = await forkRuntime(isolation);
      try {
        const out = file('nested');
        const { pid } = await rt.forkAsync({ data: { out, forkAgain: true, code: 4 } });
        assert.is(await rt.waitpidAsync(pid), 4);
        assert.is(JSON.parse(readFileSync(out, 'utf8')).grandchildStatus, 42, 'the child forked and reaped its own child');
        const go = rt.core.heap_base() + 8192;
        const w = rt.spawn(job('forker'), { n: 3, go });
        await w.registered();
        Atomics.store(new Int32Array(rt.memory.buffer), go >> 2, 1);
        assert.equal(await w.join(), [10, 11, 12], 'a worker forks and reaps its children');
      } finally {
        await shutdown(rt);
      }
    }));

  test(`${isolation}: waitpid returns the status when the child's program ends, before its teardown; close leaves nothing running`, () =>
    within(60_000, async () => {
      const base = childProcesses().length;
      const rt = await forkRuntime(isolation, {}, 1, job('fork-hold-exit'));
      const holding = file('holding');
      const release = file('release');
      try {
        const { pid } = rt.fork({ data: { code: 17, holding, release } });
        // the teardown is held for 30 s: a waitpid that waited for it would miss this deadline
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('waitpid waited for the teardown')), 10_000); });
        assert.is(await Promise.race([rt.waitpidAsync(pid), late]).finally(() => clearTimeout(timer)), 17);
        // the status came while the child still held its teardown
        await waitFor(() => existsSync(holding), 10_000, 'the child to hold its exit');
        assert.not.ok(existsSync(release));
        if (isolation === 'process') assert.ok(processAlive(pid), 'the OS process is still there');
        assert.is(rt.runningChildren().length, 0, 'reaped: no longer a running child');
      } finally {
        writeFileSync(release, '');
        await shutdown(rt);
      }
      assert.is(childProcesses().length, base, 'close waited for the teardown: no process left behind');
    }));

  test(`${isolation}: every failure path has its code: ${['spawn', 'die-before-ack', 'slow-transfer', 'corrupt', 'server-exit'].join(', ')}`, () =>
    within(120_000, async () => {
      const base = childProcesses().length;
      const rt = await forkRuntime(isolation, { threads: 1, job: job('spin') }, 1, job('fork-child'), faults.platform(nodePlatform));
      try {
        const cases: [ForkFault, string, ForkOptions?][] = [
          ['spawn', 'E_SPAWN'], ['die-before-ack', 'E_CHILD_DIED'], ['slow-transfer', 'E_ACK_TIMEOUT', { ackTimeoutMs: 50 }],
          ['corrupt', 'E_SNAPSHOT'], ['truncate', 'E_SNAPSHOT'], ['abi', 'E_SNAPSHOT'], ['server-exit', 'E_SERVER_DIED'],
        ];
        for (const [fault, code, extra] of cases) {
          await expectForkError(() => faults.inject(fault, (o) => rt.forkAsync(o), extra), code, `${isolation} ${fault}`);
          assert.is(rt.core.is_stopped(), 0, `${fault}: the world runs`);
          assert.is(rt.core.lock_owner(0), 0, `${fault}: the import lock is free`);
          assert.equal(rt.runningChildren(), [], `${fault}: no pid was handed out`);
        }
        const { pid } = rt.fork({ data: { code: 3 } });
        assert.is(rt.waitpid(pid), 3, 'the next fork works');
      } finally {
        await shutdown(rt);
      }
      await waitFor(() => childProcesses().length === base, 10_000, 'no child process left behind');
    }));

  test(`${isolation}: cold forks are counted (pool 0: every fork; a warm pool: none)`, () =>
    within(90_000, async () => {
      const cold = await forkRuntime(isolation, {}, 0);
      try {
        for (let i = 0; i < 3; i++) {
          const { pid, timings } = cold.fork({ data: { code: i } });
          assert.ok(timings.cold, 'pool 0: the child was spawned for the fork');
          assert.is(cold.waitpid(pid), i);
        }
        assert.is(cold.forkStats().coldForks, 3);
        assert.is(cold.forkStats().forks, 3);
      } finally {
        await shutdown(cold);
      }
      const warm = await forkRuntime(isolation, {}, 1);
      try {
        for (let i = 0; i < 3; i++) {
          await warm.forkPoolReady(1);
          const { pid, timings } = warm.fork();
          assert.not.ok(timings.cold, 'a warm child');
          warm.waitpid(pid);
        }
        assert.is(warm.forkStats().coldForks, 0);
      } finally {
        await shutdown(warm);
      }
    }));
}


test('fork.isolation is checked: \'process\' or \'thread\'', () =>
  within(10_000, async () => {
    let err: unknown;
    await createRuntime({ fork: { continuation: job('fork-child'), isolation: 'vm' as never } }).catch((e) => { err = e; });
    assert.instance(err, InvalidArgumentError);
  }));

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
