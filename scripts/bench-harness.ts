// Bench section "harness": the fork figures of the stress harness's default
// run, as a user gets them from `npm start -- --json --compare-cpython` — two
// interpreter threads, a mutator and a torn-read pair running, the main thread
// and a worker forking in a loop, CPython's os.fork of the same threads in the
// same run. Each run is a child process of this Node (process.execPath), with
// the harness's own tiering (it sets its flags itself, as the command does), so
// the figure is the command's and not the bench process's.
// Targets (issue 22's figures) hold on every run, not on one: a p99 or a fork
// that waited is a tail, and a median run hides the tail of the others.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, round } from './stats-util.js';

const HARNESS = fileURLToPath(new URL('./harness.js', import.meta.url));
// a run's own watchdog ends a stuck run well within this; a run of the default 50 s, its pool's warm-up and CPython's loop
const RUN_DEADLINE_MS = 300_000;
const QUICK_DURATION_S = 8;

interface Opts { quick: boolean; log: (s: string) => void }

/** One harness run's fork figures. */
export interface HarnessRun {
  seconds: number;
  forks: number;
  fork_p50_ms: number;
  fork_p90_ms: number;
  fork_p99_ms: number;
  p99_vs_p50: number;
  forks_waited: number;
  cold_forks: number;
  cpython_p50_ms: number | null;
  p50_vs_cpython: number | null;
  ok: boolean;
}

/** A run's mean of each part of the round trip over its measured forks (`all`) or those at or above its p99 (`p99`). */
export type HarnessBreakdown = { run: number; forks: 'all' | 'p99' } & Record<string, number | string>;

/** The summary line a harness run printed (its last line of output), or why there is none. */
function harnessRun(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [HARNESS, ...args], { timeout: RUN_DEADLINE_MS, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      // a run with violations exits 1 and still prints its summary: its figures are kept, `ok` says it failed
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch {
        reject(new Error(`harness run ${args.join(' ')}: no summary (${err?.message ?? 'no error'}) ${stderr.slice(-2000)}`));
      }
    });
  });
}

/** A run's figures from its summary. */
export function runFigures(s: Record<string, unknown>): { figures: HarnessRun; breakdowns: HarnessBreakdown[] } {
  const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : NaN);
  const py = s.cpython as { p50_ms?: number } | string | undefined;
  const pyP50 = typeof py === 'object' && typeof py.p50_ms === 'number' ? py.p50_ms : null;
  const p50 = num('fork_p50_ms');
  const p99 = num('fork_p99_ms');
  const parts = (forks: HarnessBreakdown['forks'], k: string) => ({ run: 0, forks, ...(s[k] as Record<string, number> | undefined) });
  const figures = {
    seconds: num('seconds'), forks: num('forks'), fork_p50_ms: p50, fork_p90_ms: num('fork_p90_ms'), fork_p99_ms: p99,
    p99_vs_p50: round(p99 / p50, 2), forks_waited: num('forks_waited'), cold_forks: num('cold_forks'),
    cpython_p50_ms: pyP50, p50_vs_cpython: pyP50 ? round(p50 / pyP50, 2) : null,
    ok: s.ok === true,
  };
  return { figures, breakdowns: [parts('all', 'fork_breakdown_ms'), parts('p99', 'fork_p99_breakdown_ms')] };
}

/** Min, median and max of one figure over the runs. */
const spread = (xs: number[]) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });

/** The figures across runs and the targets, each decided on every run. */
export function harnessSummary(runs: HarnessRun[], breakdowns: HarnessBreakdown[]): Record<string, unknown> {
  return {
    runs,
    breakdown_ms: breakdowns,
    across_runs: {
      fork_p50_ms: spread(runs.map((r) => r.fork_p50_ms)),
      p99_vs_p50: spread(runs.map((r) => r.p99_vs_p50)),
      forks_waited: spread(runs.map((r) => r.forks_waited)),
    },
    targets: {
      // no CPython in a run (python3 missing): that run cannot meet the target
      harness_fork_p50_le_2x_cpython: runs.every((r) => r.cpython_p50_ms !== null && r.fork_p50_ms <= 2 * r.cpython_p50_ms),
      harness_fork_p99_le_3x_p50: runs.every((r) => r.fork_p99_ms <= 3 * r.fork_p50_ms),
      harness_forks_waited_0: runs.every((r) => r.forks_waited === 0),
    },
  };
}

export async function benchHarness(o: Opts): Promise<Record<string, unknown>> {
  const n = o.quick ? 1 : 3;
  const args = ['--json', '--compare-cpython', ...(o.quick ? ['--duration', String(QUICK_DURATION_S)] : [])];
  const runs: HarnessRun[] = [];
  const breakdowns: HarnessBreakdown[] = [];
  for (let k = 0; k < n; k++) {
    const { figures: r, breakdowns: b } = runFigures(await harnessRun(args));
    o.log(`harness run ${k + 1}/${n}: ${r.forks} forks, p50 ${r.fork_p50_ms} ms (${r.p50_vs_cpython}x CPython), ` +
      `p99 ${r.fork_p99_ms} ms (${r.p99_vs_p50}x p50), ${r.forks_waited} waited, ${r.cold_forks} cold${r.ok ? '' : ', VIOLATIONS'}`);
    runs.push(r);
    breakdowns.push(...b.map((x) => ({ ...x, run: k + 1 })));
  }
  return { command: `npm start -- ${args.join(' ')}`, ...harnessSummary(runs, breakdowns) };
}
