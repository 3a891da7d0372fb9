// Model checking: the Promela models beside the code (assembly/model) hold
// every property exhaustively, and each seeded bug is rejected, which shows the
// properties can fail. Needs spin and gcc (.ci/run installs spin).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MODEL_DIR, SAFETY, SAFETY_BUG, verify, holds, rejected } from './lib/model-checker.js';
import { within } from './lib/helpers.js';

// R1 (may die mid-stop) and R2 both stop and start; T2 registers (into a FREE
// or reused slot), runs and may die. Four processes with T1 do not fit a test's
// time exhaustively (see docs/MODEL.md).
const STW = ['NO_T1'];

// The names a model's header cites ("What mirrors what" up to "Processes:")
// as "file.ts name, name" that no longer exist as functions in assembly/.
const CITED = /\b(state|registry|world|seqlock|locks|hooks)\.ts ([a-zA-Z]+(?:, [a-zA-Z]+)*)/g;
async function citations(text: string): Promise<{ cited: number; missing: string[] }> {
  const head = text.slice(text.indexOf('What mirrors what'), text.indexOf(' * Processes:'));
  const missing: string[] = [];
  let cited = 0;
  for (const [, file, names] of head.matchAll(CITED)) {
    const src = await readFile(fileURLToPath(new URL(`../../assembly/${file}.ts`, import.meta.url)), 'utf8');
    for (const name of names.split(', ').filter(Boolean)) {
      cited++;
      if (!new RegExp(`function ${name}\\(`).test(src)) missing.push(`${file}.ts ${name}`);
    }
  }
  return { cited, missing };
}

const MODELS = { 'stw.pml': 8, 'reattach.pml': 8, 'seqlock.pml': 5, 'gilstop.pml': 7 } as const;

test('the models name functions that still exist in assembly/*.ts', () =>
  within(5000, async () => {
    for (const [model, least] of Object.entries(MODELS)) {
      const { cited, missing } = await citations(await readFile(`${MODEL_DIR}/${model}`, 'utf8'));
      assert.ok(cited >= least, `${model}'s header cites the code it mirrors (${cited} names)`);
      assert.equal(missing, [], `${model} cites functions that do not exist`);
    }
  }));

test('negative control: a citation of a function that does not exist is caught', () =>
  within(5000, async () => {
    const text = ' * What mirrors what\n *   x  state.ts attach, attachRenamed\n *   y  seqlock.ts nothingHere\n * Processes:';
    const { cited, missing } = await citations(text);
    assert.is(cited, 3);
    assert.equal(missing, ['state.ts attachRenamed', 'seqlock.ts nothingHere']);
  }));

test('stop-the-world: every safety property holds (exhaustive)', () =>
  within(150_000, async () => {
    holds('stw', await verify({ model: 'stw.pml', defines: STW, cflags: SAFETY, deadlineMs: 140_000 }));
  }));

test('seeded bug A (start resumes before clearing the request) is rejected', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...STW, 'BUG_A'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('stw BUG_A', v, 'invalid end state');
  }));

test('seeded bug B (a blind store in detach) is rejected', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...STW, 'BUG_B'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('stw BUG_B', v, 'assertion violated');
    assert.match(v.output, /ALLOWED|slot\[i\]/, 'the mover table caught it');
  }));

test('seeded bug C (the epoch read after the pass) is rejected', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...STW, 'BUG_C'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('stw BUG_C', v, 'assertion violated');
    assert.match(v.output, /settled/, 'the lost wake-up check caught it');
  }));

test('seeded bug E (start clears the request before the stopped flag) is rejected', () =>
  within(120_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...STW, 'BUG_E'], cflags: SAFETY_BUG, deadlineMs: 110_000 });
    rejected('stw BUG_E', v, 'assertion violated');
  }));

test('robust lock: every property holds (exhaustive)', () =>
  within(60_000, async () => {
    holds('locks', await verify({ model: 'locks.pml', cflags: SAFETY, deadlineMs: 50_000 }));
  }));

test('seeded bug D (mark_dead does not notify the lock word) is rejected', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'locks.pml', defines: ['BUG_D'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('locks BUG_D', v, 'invalid end state');
  }));

test('a mark_dead that only wakes the word without changing it loses a wake-up', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'locks.pml', defines: ['NOTIFY_ONLY'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('locks NOTIFY_ONLY', v, 'invalid end state');
  }));

test.run();
