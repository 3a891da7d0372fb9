// The fork timeline (host/fork/trace.ts, scripts/fork-trace.ts): with
// WASM_THREADS_FORK_TRACE set, a fork loop's every phase is written by the
// thread or process it happens in, on one clock, and the forks it groups
// have every phase in the order a round trip runs them, under both
// isolations. Without the variable nothing is written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PHASES, breakdown, forksOf, type Phase } from '../scripts/fork-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'fork-trace-'));
const LOOP = new URL('./jobs/fork-loop-main.js', import.meta.url).pathname;
const FORKS = 6;

// each phase comes after the ones a round trip needs before it (the child's program may end before the parent wakes)
const AFTER: [Phase, Phase][] = [
  ['P fork', 'P stopped'], ['P stopped', 'P copied'], ['P copied', 'P posted'], ['P posted', 'S taken'], ['S taken', 'S written'],
  ['S written', 'C go'], ['C go', 'C read'], ['C read', 'C restored'], ['C restored', 'C hooked'], ['C hooked', 'S acked'],
  ['S acked', 'P returned'], ['C hooked', 'C ran'], ['C ran', 'C exit'], ['C exit', 'S status'], ['S status', 'P reaped'],
];

function loop(isolation: string, env: Record<string, string>): void {
  const { WASM_THREADS_FORK_TRACE: _, ...rest } = process.env;
  execFileSync(process.execPath, [...process.execArgv, LOOP, isolation, String(FORKS)], { env: { ...rest, ...env }, timeout: 60_000 });
}

for (const isolation of ['process', 'thread'] as const) {
  test(`${isolation}: a traced fork loop has every phase of every round trip, in order`, () => {
    const file = join(dir, `${isolation}.trace`);
    loop(isolation, { WASM_THREADS_FORK_TRACE: file });
    const forks = forksOf(readFileSync(file, 'utf8'));
    assert.is(forks.length, FORKS, 'every fork has every phase');
    for (const f of forks) for (const [a, b] of AFTER) assert.ok(f.at[a]! <= f.at[b]!, `${a} before ${b}`);
    const figures = breakdown(forks);
    assert.equal(figures.phases.map((p) => p.phase), [...PHASES]);
    assert.ok(figures.round_trip_p50_ms > 0);
  });
}

// A's fork holds the control block while B's waits for it; each child runs in its own carrier.
const TWO_THREADS = [
  [0, '10/0 P fork'], [1, '10/7 P fork'], [2, '10/0 P claimed'], [3, '10/0 P stopped'], [4, '10/0 P copied'],
  [5, '10/0 P started'], [6, '10/0 P posted'], [7, '10/1 S taken'], [8, '10/1 S child warm'], [9, '10/1 S written 20'],
  [10, '20/0 C go 20'], [11, '20/0 C read'], [12, '20/0 C restored'], [13, '20/0 C adopted'], [14, '20/0 C hooked'],
  [15, '10/1 S acked 20'], [16, '10/0 P returned 20'], [17, '10/7 P claimed'], [18, '10/7 P stopped'], [19, '10/7 P copied'],
  [20, '10/7 P started'], [21, '10/7 P posted'], [22, '10/1 S taken'], [23, '10/1 S child warm'], [24, '10/1 S written 30'],
  [25, '30/0 C go 30'], [26, '30/0 C read'], [26.2, '20/0 C ran'], [26.5, '30/0 C restored'], [27, '20/0 C closed'],
  [27.5, '20/0 C exit 0'], [28, '10/1 S status 20'], [28.5, '10/0 P reaped 20'], [29, '30/0 C adopted'], [29.5, '30/0 C hooked'],
  [30, '10/1 S acked 30'], [31, '10/7 P returned 30'], [32, '30/0 C ran'], [33, '30/0 C closed'], [34, '30/0 C exit 0'],
  [35, '10/1 S status 30'], [36, '10/7 P reaped 30'],
].map(([t, l]) => `${t} ${l}`).join('\n');

test('two threads forking at once: each fork gets its own thread\'s phases and the server\'s while it held the block', () => {
  const [a, b] = forksOf(TWO_THREADS);
  assert.ok(a && b, 'both forks have every phase');
  assert.equal([a.at['P fork'], a.at['P claimed'], a.at['S taken'], a.at['C go'], a.at['P returned'], a.at['P reaped']], [0, 2, 7, 10, 16, 28.5]);
  assert.equal([b.at['P fork'], b.at['P claimed'], b.at['S taken'], b.at['C go'], b.at['P returned'], b.at['P reaped']], [1, 17, 22, 25, 31, 36]);
  assert.is(breakdown([a, b]).phases.find((p) => p.phase === 'P claimed')!.step_p90_ms, 16, 'B waited for A\'s fork');
});

test('without WASM_THREADS_FORK_TRACE nothing is written', () => {
  loop('process', { TMPDIR: dir });
  assert.not.ok(existsSync(join(dir, 'none.trace')));
  assert.equal(readFileSync(join(dir, 'process.trace'), 'utf8').split('\n').filter((l) => l.includes(' P fork')).length, FORKS, 'the earlier trace was not appended to');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
