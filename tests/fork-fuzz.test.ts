// fork and waitpid fuzzed the way tests/host-fuzz.test.ts fuzzes the host
// API: random forks (children that exit at once, after a while, or when the
// test releases them), waits in every form (blocking, async, noHang) on every
// thread's children and on bogus pids, kills (process isolation), worker
// deaths (terminate) and close, from the main thread and fork-fuzz workers at
// once, and once per thread-isolation round up to and past the 256-entry
// process table (E_TABLE_FULL). Every outcome must be a status or a documented
// typed error; no pid is reaped twice and every status is its child's; every
// wait is bounded (a hang fails); at the end no child, zombie or thread is
// left (/proc). Seeded: a failure names the seed (FORK_FUZZ_SEED=n replays it,
// FORK_FUZZ_OPS=n sizes a round).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../host/runtime.js';
import type { WorkerThread } from '../host/worker-thread.js';
import { PROC_ENTRIES } from '../host/fork/protocol.js';
import { createRuntime, job, waitFor, within } from './lib/helpers.js';
import { HOSTILE, deadline, rng, undocumented } from './lib/fuzz-support.js';
import { pickShared, share, shareBuffer } from './lib/fork-fuzz-share.js';
import type { FuzzWorkerReport } from './jobs/fork-fuzz-worker.js';

const SEED = Number(process.env.FORK_FUZZ_SEED ?? 0xf0f0);
const OPS = Number(process.env.FORK_FUZZ_OPS ?? 60);
const CALL_DEADLINE_MS = 20_000;
// live children held until a release, at most (each is a worker group or a process)
const MAX_HELD = 6;

/** Processes whose parent is this one, zombies included (/proc/N/stat: pid (comm) state ppid). */
function childrenInProc(): string[] {
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === process.pid) out.push(`${d} ${state}`);
  }
  return out;
}
const threadsInProc = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

// killed: by a signal the test sent (process isolation), or by close({ children: 'kill' })
interface Kid { code: number; held: boolean; killed: false | 'signal' | 'close' }
interface Tally { ops: number; codes: Map<string, number>; statuses: number; bad: string[] }

class ForkFuzz {
  readonly R;
  /** Each pid's latest child: a recycled process child has its OS pid again once the last one is reaped. */
  readonly kids = new Map<number, Kid>();
  /** Every child of each pid, in fork order. */
  readonly generations = new Map<number, Kid[]>();
  /** [pid, status] of every reap, by any thread. */
  readonly reaps: [number, number][] = [];
  readonly reapedHere = new Set<number>();
  readonly pending: Promise<void>[] = [];
  readonly workers: WorkerThread[] = [];
  readonly shared = shareBuffer();
  readonly ring = new Int32Array(this.shared);
  release = 0;
  tableFull = false;

  constructor(readonly seed: number, readonly rt: Runtime, readonly isolation: 'thread' | 'process', readonly dir: string, readonly tally: Tally) {
    this.R = rng(seed);
  }

  get releaseFile(): string {
    return join(this.dir, `release-${this.release}`);
  }
  releaseAll(): void {
    writeFileSync(this.releaseFile, '');
    this.release++;
    for (const k of this.kids.values()) k.held = false;
  }
  held(): number[] {
    return [...this.kids].filter(([, k]) => k.held).map(([p]) => p);
  }
  /** A child of this thread not reaped here, which ends by itself (0: none). */
  selfEnding(): number {
    const c = [...this.kids].filter(([p, k]) => !k.held && !this.reapedHere.has(p)).map(([p]) => p);
    return c.length ? this.R.pick(c) : 0;
  }
  anyPid(): number {
    return this.R.int(3) === 0 ? pickShared(this.ring, this.R) : this.kids.size ? this.R.pick([...this.kids.keys()]) : 0;
  }
  bogus(): number {
    return this.R.pick([0, -1, 1, 2 ** 31 - 1, (1 << 22) + this.R.int(1 << 20), ...HOSTILE]) as number;
  }

  reaped(pid: number, s: number | undefined): void {
    if (s === undefined) return;
    this.reaps.push([pid, s]);
    this.reapedHere.add(pid);
    this.tally.statuses++;
  }

  #forked(pid: number, code: number, held: boolean): void {
    this.record(pid, { code, held, killed: false });
    share(this.ring, pid);
  }
  record(pid: number, k: Kid): void {
    this.kids.set(pid, k);
    this.generations.set(pid, [...(this.generations.get(pid) ?? []), k]);
  }
  #childData(hold: boolean): { code: number; sleepMs: number; untilFile?: string } {
    const code = this.R.int(256);
    return { code, sleepMs: this.R.pick([0, 0, 5, 30]), ...(hold ? { untilFile: this.releaseFile } : {}) };
  }

  ops(): [string, () => unknown][] {
    const { rt, R } = this;
    const ops: [string, () => unknown][] = [
      ['fork', () => { const data = this.#childData(false); this.#forked(rt.fork({ data }).pid, data.code, false); }],
      ['forkAsync', async () => { const data = this.#childData(false); this.#forked((await rt.forkAsync({ data })).pid, data.code, false); }],
      ['fork (held until a release)', () => {
        if (this.held().length >= MAX_HELD) return;
        const data = this.#childData(true);
        this.#forked(rt.fork({ data }).pid, data.code, true);
      }],
      ['waitpid (a child that ends by itself)', () => { const pid = this.selfEnding(); if (pid) this.reaped(pid, rt.waitpid(pid)); }],
      ['waitpidAsync (any child; settles later)', () => {
        const pid = this.anyPid();
        if (!pid) return;
        const what = `seed ${this.seed}: waitpidAsync(${pid})`;
        this.pending.push(rt.waitpidAsync(pid).then((s) => this.reaped(pid, s), (e) => this.outcome(what, e)));
      }],
      ['waitpid noHang (any child)', () => { const pid = this.anyPid(); if (pid) this.reaped(pid, rt.waitpid(pid, { noHang: true })); }],
      ['waitpidAsync noHang (any child)', async () => { const pid = this.anyPid(); if (pid) this.reaped(pid, await rt.waitpidAsync(pid, { noHang: true })); }],
      ['waitpid (bogus pid)', () => rt.waitpid(this.bogus(), R.pick([{}, { noHang: true }]) as { noHang: true })],
      ['waitpidAsync (bogus pid)', () => rt.waitpidAsync(this.bogus())],
      ['release the held children', () => this.releaseAll()],
      ['spawn a fork-fuzz worker', () => {
        if (this.workers.filter((w) => !w.exited).length >= 2) return;
        this.workers.push(rt.spawn(job('fork-fuzz-worker'), { seed: R.int(2 ** 31), ops: 25, shared: this.shared }));
      }],
      ['terminate a worker (a death mid-fork or mid-wait)', () => {
        const live = this.workers.filter((w) => !w.exited);
        if (live.length && R.int(3) === 0) return R.pick(live).terminate();
      }],
    ];
    if (this.isolation === 'process') {
      // only a held child is surely alive and unreaped: its pid is not recycled
      ops.push(['kill a held child', () => {
        const h = this.held();
        if (!h.length) return;
        const pid = R.pick(h);
        process.kill(pid, R.pick(['SIGKILL', 'SIGTERM'] as const));
        const k = this.kids.get(pid)!;
        k.killed = 'signal';
        k.held = false;
      }]);
    }
    return ops;
  }

  // Forks children that exit at once, unreaped, until the table refuses one.
  async fill(): Promise<void> {
    for (let i = 0; i <= PROC_ENTRIES + 8; i++) {
      try {
        const data = this.#childData(false);
        this.#forked((await deadline(this.rt.forkAsync({ data: { code: data.code } }), CALL_DEADLINE_MS, `seed ${this.seed}: fill fork ${i}`)).pid, data.code, false);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('hang:')) throw e;
        this.outcome(`seed ${this.seed}: fill fork ${i}`, e);
        if ((e as { code?: string }).code === 'E_TABLE_FULL') {
          this.tableFull = true;
          return;
        }
      }
    }
  }

  outcome(what: string, e: unknown): void {
    if (e instanceof Error && e.message.startsWith('hang:')) throw e;
    const why = undocumented(e);
    if (why) {
      this.tally.bad.push(`${what}: ${why}`);
      return;
    }
    const code = (e as { code: string }).code;
    this.tally.codes.set(code, (this.tally.codes.get(code) ?? 0) + 1);
  }

  async run(n: number, fillAt: number): Promise<void> {
    const ops = this.ops();
    for (let k = 0; k < n; k++) {
      if (k === fillAt) await this.fill();
      const [name, op] = this.R.pick(ops);
      const what = `seed ${this.seed} op ${k} ${name}`;
      this.tally.ops++;
      try {
        const r = op();
        if (r instanceof Promise) await deadline(r, CALL_DEADLINE_MS, what);
      } catch (e) {
        this.outcome(what, e);
      }
      if (this.R.int(6) === 0) await new Promise((r) => setImmediate(r));
    }
  }

  /**
   * The end: every held child goes, then the runtime closes — after every
   * wait settled and every worker ended, or (`early`) while waits are pending
   * and workers still fork and wait, which close must end too.
   */
  async finish(early: boolean, children: 'wait' | 'kill'): Promise<void> {
    this.releaseAll();
    // a child still running at close is killed: its status is whatever ended it
    if (children === 'kill') for (const k of [...this.generations.values()].flat()) k.killed ||= 'close';
    const close = () => deadline(this.rt.close({ children, graceMs: 500 }), CALL_DEADLINE_MS, `seed ${this.seed}: close({ children: '${children}' })`);
    if (early) await close();
    await deadline(Promise.all(this.pending), CALL_DEADLINE_MS, `seed ${this.seed}: the pending waitpidAsync`);
    for (const w of this.workers) {
      try {
        const r = (await deadline(w.join(), CALL_DEADLINE_MS, `seed ${this.seed}: a fork-fuzz worker's join`)) as FuzzWorkerReport;
        this.tally.ops += r.ops;
        this.tally.bad.push(...r.bad);
        for (const [code, c] of Object.entries(r.errors)) this.tally.codes.set(code, (this.tally.codes.get(code) ?? 0) + c);
        for (const [pid, code] of r.forks) this.record(pid, { code, held: false, killed: children === 'kill' ? 'close' : false });
        this.reaps.push(...r.reaps);
        this.tally.statuses += r.reaps.length;
      } catch (e) {
        this.outcome(`seed ${this.seed}: a fork-fuzz worker's join`, e); // a terminated worker: WorkerError
      }
    }
    if (!early) await close();
  }

  /**
   * No child reaped twice (a pid is reaped at most once per child it named:
   * a recycled process child has its OS pid again only after the last one
   * was reaped); every status is one of its pid's children's code (or 128 +
   * the signal that killed it).
   */
  checkReaps(): void {
    const left = new Map([...this.generations].map(([pid, ks]) => [pid, [...ks]]));
    for (const [pid, status] of this.reaps) {
      const ks = left.get(pid);
      if (!ks) continue; // a child of a worker that died before it reported
      assert.ok(ks.length > 0, `seed ${this.seed}: pid ${pid} reaped more often than it was forked`);
      assert.ok(Number.isInteger(status) && status >= 0 && status <= 255, `seed ${this.seed}: pid ${pid} gave status ${status}`);
      // ended by close: a process child's SIGKILL, a thread child's terminate, both reported as SIGKILL
      const ok = (k: Kid) => (k.killed === 'close' ? [k.code, 128 + 9] : k.killed ? [k.code, 128 + 9, 128 + 15] : [k.code]);
      const i = ks.findIndex((k) => k.code === status) >= 0 ? ks.findIndex((k) => k.code === status) : ks.findIndex((k) => ok(k).includes(status));
      assert.ok(i >= 0, `seed ${this.seed}: pid ${pid} gave status ${status}, its children exit with ${ks.map((k) => ok(k).join(' or ')).join(', ')}`);
      ks.splice(i, 1);
    }
  }
}

async function round(seed: number, isolation: 'thread' | 'process', tally: Tally, opts: { ops: number; fill: boolean }): Promise<ForkFuzz> {
  console.log(`  fork fuzz round: seed ${seed} (FORK_FUZZ_SEED replays it), ${isolation} isolation, ${opts.ops} ops${opts.fill ? ', fills the table' : ''}`);
  await readFile(new URL(import.meta.url)); // the thread pool is up before the count
  const threadsBefore = threadsInProc();
  const childrenBefore = childrenInProc();
  const dir = mkdtempSync(join(tmpdir(), 'fork-fuzz-'));
  const rt = await createRuntime({ capacity: 16, fork: { continuation: job('fork-child'), pool: 2, isolation } });
  const f = new ForkFuzz(seed, rt, isolation, dir, tally);
  try {
    await f.run(opts.ops, opts.fill ? f.R.int(opts.ops) : -1);
    await f.finish(f.R.int(2) === 0, f.R.pick(['wait', 'kill'] as const));
    f.checkReaps();
    if (opts.fill) assert.ok(f.tableFull, `seed ${seed}: the fill met E_TABLE_FULL`);
    // nothing left: no child process (nor zombie), no worker thread of the runtime
    await waitFor(() => childrenInProc().length <= childrenBefore.length, 10_000, `seed ${seed}: every child process to be reaped (${childrenInProc().join(', ')})`);
    await waitFor(() => threadsInProc() <= threadsBefore, 10_000, `seed ${seed}: every thread of the runtime to end (${threadsInProc()} of ${threadsBefore})`);
    return f;
  } finally {
    f.releaseAll();
    if (!rt.closed) await rt.close({ children: 'kill', graceMs: 100 });
    rmSync(dir, { recursive: true, force: true });
  }
}

test(`fork and waitpid under random forks, waits, kills, worker deaths and close from several threads, past the ${PROC_ENTRIES}-child table: statuses and documented errors only, no hang, nothing left`, () =>
  within(600_000, async () => {
    const tally: Tally = { ops: 0, codes: new Map(), statuses: 0, bad: [] };
    await round(SEED >>> 0, 'thread', tally, { ops: OPS, fill: true });
    await round((SEED + 0x9e3779b9) >>> 0, 'process', tally, { ops: Math.ceil(OPS / 3), fill: false });
    console.log(`  fork fuzz: ${tally.ops} ops, ${tally.statuses} statuses, errors ${JSON.stringify(Object.fromEntries(tally.codes))}`);
    assert.equal(tally.bad, [], 'every outcome a status or a documented typed error');
    assert.ok(tally.statuses > 0, 'children were reaped');
    assert.ok((tally.codes.get('E_CHILD') ?? 0) > 0, 'waits that lost a race or named no child met E_CHILD');
    assert.ok((tally.codes.get('E_TABLE_FULL') ?? 0) > 0, 'the table filled');
  }));

test.run();
