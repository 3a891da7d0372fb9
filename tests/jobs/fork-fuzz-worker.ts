// The fork/waitpid fuzz on a worker (tests/fork-fuzz.test.ts): random forks
// of children that exit by themselves, waits in every form on its own
// children and on the pids the other threads share (data.shared), noHang
// polls and bogus pids; every wait bounded. Returns what it saw; `bad` lists
// every outcome that was not a status or a documented typed error.
import type { ThreadContext } from '../../host/worker.js';
import { HOSTILE, deadline, rng, undocumented } from '../lib/fuzz-support.js';
import { pickShared, share } from '../lib/fork-fuzz-share.js';

interface Data { seed: number; ops: number; shared: SharedArrayBuffer }
export interface FuzzWorkerReport {
  ops: number;
  forks: [number, number][];
  reaps: [number, number][];
  errors: Record<string, number>;
  bad: string[];
}

const WAIT_BOUND_MS = 20_000;

export default async function forkFuzzWorker(ctx: ThreadContext): Promise<FuzzWorkerReport> {
  const d = ctx.data as Data;
  const R = rng(d.seed);
  const shared = new Int32Array(d.shared);
  const out: FuzzWorkerReport = { ops: 0, forks: [], reaps: [], errors: {}, bad: [] };
  const mine: number[] = [];
  const reaped = (pid: number, s: number | undefined) => { if (s !== undefined) out.reaps.push([pid, s]); };
  const bounded = <T>(p: Promise<T>, what: string): Promise<T> => deadline(p, WAIT_BOUND_MS, what);
  const ops: [string, () => unknown][] = [
    ['fork', () => {
      const code = R.int(256);
      const { pid } = ctx.fork({ data: { code, sleepMs: R.pick([0, 0, 5, 30]) } });
      out.forks.push([pid, code]);
      mine.push(pid);
      share(shared, pid);
    }],
    ['forkAsync', async () => {
      const code = R.int(256);
      const { pid } = await bounded(ctx.forkAsync({ data: { code } }), 'forkAsync');
      out.forks.push([pid, code]);
      mine.push(pid);
      share(shared, pid);
    }],
    // own children exit by themselves: a blocking wait on one is bounded
    ['waitpid (own)', () => { if (mine.length) { const pid = mine.splice(R.int(mine.length), 1)[0]; reaped(pid, ctx.waitpid(pid)); } }],
    ['waitpidAsync (shared)', async () => { const pid = pickShared(shared, R); if (pid) reaped(pid, await bounded(ctx.waitpidAsync(pid), `waitpidAsync ${pid}`)); }],
    ['waitpid noHang (shared)', () => { const pid = pickShared(shared, R); if (pid) reaped(pid, ctx.waitpid(pid, { noHang: true })); }],
    ['waitpid (bogus)', () => ctx.waitpid(R.pick([0, -1, 1, 2 ** 31 - 1, R.int(1 << 20) + (1 << 22), ...HOSTILE]) as number, { noHang: true })],
    ['poll', () => ctx.poll()],
  ];
  for (; out.ops < d.ops && !ctx.closing; out.ops++) {
    const [name, op] = R.pick(ops);
    try {
      await op();
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('hang:')) { out.bad.push(`worker seed ${d.seed} op ${out.ops} ${name}: ${e.message}`); continue; }
      const why = undocumented(e);
      if (why) out.bad.push(`worker seed ${d.seed} op ${out.ops} ${name}: ${why}`);
      else {
        const code = (e as { code: string }).code;
        out.errors[code] = (out.errors[code] ?? 0) + 1;
      }
    }
  }
  return out;
}
