// Model checking of the fork process table's waitpid hand-off
// (assembly/model/waitpid.pml): waiters racing for one child get one status
// and E_CHILD, nobody waits past the exit, every waiter returns (weak
// fairness); each seeded bug, a defect the protocol guards against, is
// rejected — BUG_W is the loop that hung two waitpidAsync on one child.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LIVENESS, LIVENESS_BUG, MODEL_DIR, SAFETY, SAFETY_BUG, holds, rejected, report, verify } from './lib/model-checker.js';
import { within } from './lib/helpers.js';

// The names the header cites ("What mirrors what" up to "Processes:") as
// "file.ts name, name" that are no longer functions or methods of host/fork/file.ts.
const CITED = /\b(protocol|client)\.ts ([a-zA-Z]+(?:, [a-zA-Z]+)*)/g;
async function missingCitations(text: string): Promise<{ cited: number; missing: string[] }> {
  const head = text.slice(text.indexOf('What mirrors what'), text.indexOf(' * Processes:'));
  const missing: string[] = [];
  let cited = 0;
  for (const [, file, names] of head.matchAll(CITED)) {
    const src = await readFile(fileURLToPath(new URL(`../../host/fork/${file}.ts`, import.meta.url)), 'utf8');
    for (const name of names.split(', ').filter(Boolean)) {
      cited++;
      if (!new RegExp(`(function |^\\s+\\*?#?)${name}\\(`, 'm').test(src)) missing.push(`${file}.ts ${name}`);
    }
  }
  return { cited, missing };
}

test('the waitpid model names functions that still exist in host/fork', () =>
  within(5000, async () => {
    const { cited, missing } = await missingCitations(await readFile(`${MODEL_DIR}/waitpid.pml`, 'utf8'));
    assert.ok(cited >= 6, `the header cites the code it mirrors (${cited} names)`);
    assert.equal(missing, []);
  }));

test('negative control: a citation of a function that does not exist is caught', () =>
  within(5000, async () => {
    const { cited, missing } = await missingCitations(' * What mirrors what\n *   x  protocol.ts procReap, procReapAll\n * Processes:');
    assert.is(cited, 2);
    assert.equal(missing, ['protocol.ts procReapAll']);
  }));

test('waitpid hand-off: one status, E_CHILD to the others, nobody waits past the exit (exhaustive)', () =>
  within(60_000, async () => {
    holds('waitpid', await verify({ model: 'waitpid.pml', cflags: SAFETY, deadlineMs: 55_000 }));
  }));

test('waitpid hand-off: every waiter returns (weak fairness)', () =>
  within(120_000, async () => {
    const v = await verify({ model: 'waitpid.pml', ...LIVENESS, cflags: [...LIVENESS.cflags, '-DCOLLAPSE'], deadlineMs: 110_000 });
    report('waitpid liveness', v);
    assert.is(v.truncated, false, 'search was not exhaustive');
    assert.is(v.errors, 0, v.output);
  }));

test('seeded bug W (wait until EXITED: the loop that hung two waiters) is rejected: a waiter waits on after the reap', () =>
  within(30_000, async () => {
    const v = await verify({ model: 'waitpid.pml', defines: ['BUG_W'], cflags: SAFETY_BUG, deadlineMs: 25_000 });
    rejected('waitpid BUG_W', v, 'assertion violated');
    assert.match(v.output, /reapedA/, 'the wait-past-the-exit check caught it');
  }));

test('seeded bug W is rejected by progress alone: the waiter that lost the reap never returns', () =>
  within(30_000, async () => {
    const v = await verify({ model: 'waitpid.pml', defines: ['BUG_W', 'NO_WAIT_MONITOR', 'NO_REUSE'], ...LIVENESS_BUG, deadlineMs: 25_000 });
    rejected('waitpid BUG_W liveness', v, 'acceptance cycle');
  }));

test('seeded bug G (the reap ignores the generation) is rejected: a waiter reaps the next child of its slot', () =>
  within(30_000, async () => {
    const v = await verify({ model: 'waitpid.pml', defines: ['BUG_G'], cflags: SAFETY_BUG, deadlineMs: 25_000 });
    rejected('waitpid BUG_G', v, 'assertion violated');
    assert.match(v.output, /pidw==1/, 'the reaped entry was not its child\'s');
  }));

test('seeded bug C (RUNNING published before the pid) is rejected: a late waiter takes the next child for its own', () =>
  within(30_000, async () => {
    const v = await verify({ model: 'waitpid.pml', defines: ['BUG_C'], cflags: SAFETY_BUG, deadlineMs: 25_000 });
    rejected('waitpid BUG_C', v, 'assertion violated');
    assert.match(v.output, /pidw==1/);
  }));

test.run();
