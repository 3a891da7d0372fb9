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

test('without WASM_THREADS_FORK_TRACE nothing is written', () => {
  loop('process', { TMPDIR: dir });
  assert.not.ok(existsSync(join(dir, 'none.trace')));
  assert.equal(readFileSync(join(dir, 'process.trace'), 'utf8').split('\n').filter((l) => l.includes(' P fork')).length, FORKS, 'the earlier trace was not appended to');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
