// Recycled fork children (docs/FORK.md, "Recycled children"): a carrier — an
// OS process or a worker — runs one child after another only when nothing of
// the last child can reach the next: the memory is the parent's again (a
// carrier keeps its own, and every page the last child wrote is overwritten
// or zeroed), the instances and the runtime are new; the environment, the working directory and the exit code
// are put back; a child that leaves a file open, a timer or a listener ends
// its carrier instead; a continuation without `recycle` is never recycled.
// The workers a child's threads ran on serve the next child's threads, but
// one a thread left a timer in, one whose thread never returned, and those of
// a child that changed the environment.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '../host/node/index.js';
import { DIAG_SCRATCH } from '../host/diag.js';
import { childProcesses, job, processAlive, shutdown, waitFor, within } from './lib/helpers.js';
import type { RecycleData } from './jobs/fork-recycle.js';
import type { RecycleThreadData } from './jobs/recycle-thread.js';

type Isolation = 'process' | 'thread';
// a test-owned word of the host scratch: zero in the parent throughout
const WORD = DIAG_SCRATCH + 200;
const dir = mkdtempSync(join(tmpdir(), 'fork-recycle-'));
let n = 0;

interface Report {
  pid: number; word: number; children: number; env: string | null; cwd: string; exitCode: number | null; sigusr2: number; timers: number;
  restoredChecksum: number | null; pages: number; prepared: unknown;
}

function recycleRuntime(isolation: Isolation, continuation = job('fork-recycle'), prepareData?: unknown): Promise<Runtime> {
  return createRuntime({ fork: { continuation, pool: 1, isolation, ...(prepareData === undefined ? {} : { prepareData }) } });
}

/** One fork, reaped: the child's report, its status and, with `verify`, the checksum of the parent's memory it forked. */
async function forkOnce(rt: Runtime, d: Partial<RecycleData> = {}, verify = false): Promise<Report & { status: number; memoryChecksum?: number }> {
  const out = join(dir, `r${n++}.json`);
  const { pid, memoryChecksum } = await rt.forkAsync({ data: { out, word: WORD, mark: 0x5a5a + n, ...d }, verify });
  const status = await rt.waitpidAsync(pid);
  return { ...(JSON.parse(readFileSync(out, 'utf8')) as Report), status, memoryChecksum };
}

/** Forks until the last child was served by a recycled carrier (bounded): a warm pool may hold a fresh one first. */
async function forkRecycled(rt: Runtime, d: Partial<RecycleData> = {}): Promise<Report & { status: number }> {
  for (let i = 0; i < 20; i++) {
    const before = rt.forkStats().recycledForks;
    const r = await forkOnce(rt, d);
    if (rt.forkStats().recycledForks > before) return r;
  }
  throw new Error(`no recycled fork in 20: ${JSON.stringify(rt.forkStats())}`);
}

for (const isolation of ['process', 'thread'] as const) {
  test(`${isolation}: a fork loop is served by recycled children, each with a fresh memory and module state`, () =>
    within(120_000, async () => {
      const rt = await recycleRuntime(isolation);
      try {
        const first = await forkOnce(rt, { code: 7 });
        assert.is(first.status, 7);
        for (let i = 0; i < 12; i++) {
          const r = await forkOnce(rt, { code: i });
          assert.is(r.status, i, 'the status is this child\'s');
          assert.is(r.word, 0, 'the last child\'s write to the memory is not seen: a fresh copy of the parent\'s');
          assert.is(r.children, 1, 'the continuation module\'s state was put back by its recycle');
        }
        const s = rt.forkStats();
        assert.ok(s.recycledForks >= 8, `most forks were served by recycled children: ${JSON.stringify(s)}`);
      } finally {
        await shutdown(rt);
      }
    }));

  test(`${isolation}: every child's carrier prepared it with the runtime's fork.prepareData before the child ran, a recycled one too`, () =>
    within(120_000, async () => {
      const prepareData = { program: 'file:///a/program.wasm', n: [1, 2] };
      const rt = await recycleRuntime(isolation, job('fork-recycle'), prepareData);
      const plain = await recycleRuntime(isolation);
      try {
        for (let i = 0; i < 4; i++) {
          const r = await forkOnce(rt);
          assert.equal(r.prepared, prepareData, 'prepare was given the parent\'s prepareData before the child ran');
        }
        const r = await forkRecycled(rt);
        assert.equal(r.prepared, prepareData, 'a recycled carrier too');
        assert.is((await forkOnce(plain)).prepared, null, 'without prepareData, prepare gets none');
      } finally {
        await shutdown(rt);
        await shutdown(plain);
      }
    }));

  test(`${isolation}: a recycled carrier's memory holds the parent's memory for every child, whatever the last child wrote or grew`, () =>
    within(120_000, async () => {
      const rt = await recycleRuntime(isolation);
      try {
        const pages = rt.memory.buffer.byteLength / 65536;
        const top = new Int32Array(rt.memory.buffer, (pages - 1) * 65536);
        assert.ok(top.every((w) => w === 0), 'the parent\'s last page is zero: no snapshot carries it');
        const before = rt.forkStats().recycledForks;
        for (let i = 0; i < 12; i++) {
          // every child writes into every page of its memory, some after growing it
          const r = await forkOnce(rt, { scribble: { grow: i % 3 === 2 ? 3 : 0 } }, true);
          assert.is(r.status, 0);
          assert.is(r.pages, pages, 'the child\'s memory is the parent\'s size');
          assert.is(r.restoredChecksum, r.memoryChecksum, 'the child\'s whole memory is the parent\'s at the fork');
        }
        assert.ok(rt.forkStats().recycledForks - before >= 8, `most forks were served by recycled children: ${JSON.stringify(rt.forkStats())}`);
      } finally {
        await shutdown(rt);
      }
    }));

  test(`${isolation}: what a child changes of the environment, directory and exit code is put back`, () =>
    within(120_000, async () => {
      const rt = await recycleRuntime(isolation);
      try {
        const leaves = isolation === 'process' ? (['env', 'cwd', 'exitCode'] as const) : (['env', 'exitCode'] as const);
        for (const leave of leaves) {
          await forkOnce(rt, { leave });
          const r = await forkRecycled(rt);
          assert.is(r.env, null, `${leave}: the environment is the carrier's`);
          assert.is(r.cwd, process.cwd(), `${leave}: the working directory is the carrier's`);
          assert.is(r.exitCode, null, `${leave}: no exit code carried over`);
          assert.is(r.status, 0);
        }
      } finally {
        await shutdown(rt);
      }
    }));

  test(`${isolation}: a child that leaves a timer or a listener ends its carrier: the next child runs in a new one`, () =>
    within(120_000, async () => {
      const rt = await recycleRuntime(isolation);
      try {
        const leaves = isolation === 'process' ? (['timer', 'listener', 'fd'] as const) : (['timer', 'listener'] as const);
        for (const leave of leaves) {
          await forkRecycled(rt);
          const left = await forkOnce(rt, { leave, code: 5 });
          assert.is(left.status, 5, `${leave}: the status arrives as the carrier ends`);
          if (isolation === 'process') await waitFor(() => !processAlive(left.pid), 10_000, `${leave}: the carrier that ran the child to end`);
          const next = await forkRecycled(rt);
          assert.is(next.sigusr2, 0, `${leave}: no listener of another child`);
          assert.is(next.timers, 0, `${leave}: no timer of another child`);
        }
      } finally {
        await shutdown(rt);
      }
    }));
}

for (const isolation of ['process', 'thread'] as const) {
  test(`${isolation}: a child that starts threads is recycled once they are joined, their workers idle`, () =>
    within(120_000, async () => {
      const rt = await recycleRuntime(isolation);
      try {
        const before = rt.forkStats().recycledForks;
        for (let i = 0; i < 8; i++) {
          const r = await forkOnce(rt, { threads: job('pool-echo').href, code: i });
          assert.is(r.status, i);
          assert.is(r.children, 1, 'the continuation module\'s state was put back by its recycle');
        }
        assert.ok(rt.forkStats().recycledForks - before >= 4, `most forks were served by recycled children: ${JSON.stringify(rt.forkStats())}`);
      } finally {
        await shutdown(rt);
      }
    }));
}

interface ThreadReport { pid: number; worker: string; timers: number; env: string | null; status: number }

/** One fork whose child starts a recycle-thread job (`leave` passed on to it): what that thread found, the child's status. */
async function forkWithThread(rt: Runtime, leave?: RecycleThreadData['leave'], d: Partial<RecycleData> = {}): Promise<ThreadReport> {
  const out = join(dir, `t${n}.json`);
  const r = await forkOnce(rt, { thread: { job: job('recycle-thread').href, data: { out, leave } satisfies RecycleThreadData }, ...d });
  const t = JSON.parse(readFileSync(out, 'utf8')) as { threadId: number; timers: number; env: string | null };
  // a worker's thread id is its process's: a process carrier's pid tells two carriers' workers apart
  return { pid: r.pid, worker: `${r.pid}/${t.threadId}`, timers: t.timers, env: t.env, status: r.status };
}

for (const isolation of ['process', 'thread'] as const) {
  test(`${isolation}: a child's thread workers serve the next child's threads, but one left a timer in, one never returned, one of a changed environment`, () =>
    within(120_000, async () => {
      const rt = await recycleRuntime(isolation);
      try {
        const plain = async (k: number) => {
          const seen: ThreadReport[] = [];
          for (let i = 0; i < k; i++) seen.push(await forkWithThread(rt));
          for (const t of seen) {
            assert.is(t.status, 0);
            assert.is(t.timers, 0, 'no timer of another child\'s thread on its worker');
            assert.is(t.env, null, 'no environment of another child on its worker');
          }
          return seen.map((t) => t.worker);
        };
        const workers = await plain(6);
        assert.ok(new Set(workers).size < workers.length, `a worker served two children's threads: ${workers.join(' ')}`);

        const timer = await forkWithThread(rt, 'timer', { code: 3 });
        assert.is(timer.status, 3);
        assert.not.ok((await plain(4)).includes(timer.worker), 'the worker a thread left a timer in ran no other child\'s thread');

        const hang = await forkWithThread(rt, 'hang', { code: 4 });
        assert.is(hang.status, 4, 'a thread that never returns is terminated by its runtime\'s close');
        assert.not.ok((await plain(4)).includes(hang.worker), 'the worker of a thread that never returned ran no other child\'s thread');

        // the environment's change comes before the thread starts: a worker started for it would copy it
        const env = await forkWithThread(rt, undefined, { leave: 'env' });
        assert.is(env.status, 0);
        assert.not.ok((await plain(4)).includes(env.worker), 'the workers of a child that changed the environment ran no other child\'s thread');
      } finally {
        await shutdown(rt);
      }
    }));
}

test('a continuation without recycle is never recycled: each child is a new process', () =>
  within(120_000, async () => {
    const rt = await recycleRuntime('process', job('fork-pid'));
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 4; i++) {
        const out = join(dir, `p${i}.json`);
        const { pid } = await rt.forkAsync({ data: { out } });
        assert.is(await rt.waitpidAsync(pid), 0);
        pids.add((JSON.parse(readFileSync(out, 'utf8')) as { pid: number }).pid);
      }
      assert.is(pids.size, 4, 'four processes');
      assert.is(rt.forkStats().recycledForks, 0);
    } finally {
      await shutdown(rt);
    }
  }));

test('close leaves no carrier behind, recycled or pooled', () =>
  within(120_000, async () => {
    const base = childProcesses().length;
    const rt = await recycleRuntime('process');
    for (let i = 0; i < 4; i++) await forkOnce(rt);
    await rt.close();
    await waitFor(() => childProcesses().length === base, 10_000, 'every carrier to be gone');
  }));

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
