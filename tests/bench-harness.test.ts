// The bench's harness section (scripts/bench-harness.ts) from harness summaries:
// each run's figures beside CPython's, the spread over the runs, and targets
// that hold only when every run meets them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harnessSummary, runFigures } from '../scripts/bench-harness.js';

const parts = (claim: number) => ({ claim, stop: 1, handoff: 8, exit_waitpid: 2 });
const summary = (o: { p50: number; p99: number; waited: number; cpython?: number }) => ({
  seconds: 50, forks: 3000, fork_p50_ms: o.p50, fork_p90_ms: o.p50 * 2, fork_p99_ms: o.p99, forks_waited: o.waited, cold_forks: 0,
  cpython: o.cpython === undefined ? 'unavailable: python3 missing' : { p50_ms: o.cpython },
  fork_breakdown_ms: parts(9), fork_p99_breakdown_ms: parts(100), ok: true,
});

test('a run\'s figures: ratios to its own p50 and to CPython\'s of the same run, its breakdowns of all forks and of the tail', () => {
  const { figures, breakdowns } = runFigures(summary({ p50: 10, p99: 45, waited: 0, cpython: 12.5 }));
  assert.is(figures.p99_vs_p50, 4.5);
  assert.is(figures.p50_vs_cpython, 0.8);
  assert.is(figures.cpython_p50_ms, 12.5);
  assert.equal(breakdowns.map((b) => [b.forks, b.claim]), [['all', 9], ['p99', 100]]);
  const none = runFigures(summary({ p50: 10, p99: 20, waited: 0 })).figures;
  assert.is(none.cpython_p50_ms, null, 'no CPython in the run: no ratio');
  assert.is(none.p50_vs_cpython, null);
});

test('every target holds only when every run meets it; the spread is over the runs', () => {
  const good = runFigures(summary({ p50: 10, p99: 25, waited: 0, cpython: 12 })).figures;
  const s = harnessSummary([good, good, good], []) as { targets: Record<string, boolean>; across_runs: Record<string, Record<string, number>> };
  assert.equal(s.targets, { harness_fork_p50_le_2x_cpython: true, harness_fork_p99_le_3x_p50: true, harness_forks_waited_0: true });
  const waited = runFigures(summary({ p50: 10, p99: 25, waited: 1, cpython: 12 })).figures;
  const tail = runFigures(summary({ p50: 10, p99: 31, waited: 0, cpython: 12 })).figures;
  const slow = runFigures(summary({ p50: 25, p99: 50, waited: 0, cpython: 12 })).figures;
  const noPy = runFigures(summary({ p50: 10, p99: 25, waited: 0 })).figures;
  const t = (runs: typeof good[]) => (harnessSummary(runs, []) as { targets: Record<string, boolean> }).targets;
  assert.is(t([good, waited, good]).harness_forks_waited_0, false, 'one run with a fork that waited');
  assert.is(t([good, good, tail]).harness_fork_p99_le_3x_p50, false, 'one run with a long tail');
  assert.is(t([slow, good, good]).harness_fork_p50_le_2x_cpython, false, 'one slow run');
  assert.is(t([good, noPy]).harness_fork_p50_le_2x_cpython, false, 'a run without CPython cannot meet it');
  const spread = (harnessSummary([good, waited, slow], []) as typeof s).across_runs;
  assert.equal(spread.fork_p50_ms, { min: 10, median: 10, max: 25 });
  assert.equal(spread.forks_waited, { min: 0, median: 0, max: 1 });
});

test.run();
