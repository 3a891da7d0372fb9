// The harness's forking worker: forks in a loop (each child checks its copy,
// scripts/jobs/harness-child.ts) until the diagnostics quit word is set.
// ForkTally is what every forker of the stress workload records, so the main
// thread's loop (scripts/stress-workload.ts) and this worker count alike.
import type { ThreadContext } from '../../host/worker.js';
import type { ForkTimings } from '../../host/index.js';
import { DIAG_QUIT as D_QUIT } from '../../host/diag.js';

/** One measured fork: when it started (ms since the epoch, comparable across threads), its round trip, its parts. */
export interface ForkSample {
  at: number;
  ms: number;
  timings: ForkTimings;
  /** From the fork's return to waitpid's: the child's run, exit and reaping. */
  exitWaitMs: number;
}

export interface ForkerResult {
  forks: number;
  /** Forks that waited for their child (cold), the warm-up's included. */
  waited: number;
  failedChildren: number;
  codes: Record<number, number>;
  samples: ForkSample[];
  error?: string;
}

/** A forker's counts: forks, failed children by exit code, and a sample for each fork after the warm-up. */
export class ForkTally implements ForkerResult {
  forks = 0;
  waited = 0;
  failedChildren = 0;
  codes: Record<number, number> = {};
  samples: ForkSample[] = [];
  error?: string;

  constructor(private readonly warmup: number) {}

  /** The time a fork starts at, for record(). */
  static now(): number {
    return performance.timeOrigin + performance.now();
  }

  /** A fork that started at `at` and returned at `forked` with `timings`, whose child's status `status` waitpid gave just now. */
  record(at: number, forked: number, timings: ForkTimings, status: number): void {
    const now = ForkTally.now();
    if (this.forks >= this.warmup) this.samples.push({ at, ms: now - at, timings, exitWaitMs: now - forked });
    if (timings.cold) this.waited++;
    if (status !== 0) {
      this.failedChildren++;
      this.codes[status] = (this.codes[status] ?? 0) + 1;
    }
    this.forks++;
  }

  /** Adds another forker's result (a worker's, at the end of the run) to this one's counts. */
  merge(r: ForkerResult): void {
    this.forks += r.forks;
    this.waited += r.waited;
    this.failedChildren += r.failedChildren;
    for (const [c, n] of Object.entries(r.codes)) this.codes[Number(c)] = (this.codes[Number(c)] ?? 0) + n;
    this.samples.push(...r.samples);
  }

  result(): ForkerResult {
    return { forks: this.forks, waited: this.waited, failedChildren: this.failedChildren, codes: this.codes, samples: this.samples, error: this.error };
  }
}

export default function forker(ctx: ThreadContext): ForkerResult {
  const { forkData, warmup } = ctx.data as { forkData: unknown; warmup: number };
  const i32 = new Int32Array(ctx.memory.buffer);
  const tally = new ForkTally(warmup);
  while (Atomics.load(i32, D_QUIT >> 2) === 0) {
    const at = ForkTally.now();
    try {
      const { pid, timings } = ctx.fork({ data: forkData });
      const forked = ForkTally.now();
      tally.record(at, forked, timings, ctx.waitpid(pid));
    } catch (e) {
      tally.error = e instanceof Error ? e.message : String(e);
      break;
    }
    ctx.poll();
  }
  return tally.result();
}
