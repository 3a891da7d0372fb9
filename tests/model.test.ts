// Model checking: the Promela models beside the code (assembly/model) hold
// every property exhaustively, and each seeded bug is rejected, which shows the
// properties can fail. Needs spin and gcc (.ci/run installs spin).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MODEL_DIR, SAFETY, SAFETY_BUG, verify, type Verdict } from './lib/model-checker.js';
import { within } from './lib/helpers.js';

// R1 (may die mid-stop) and R2 both stop and start; T2 registers (into a FREE
// or reused slot), runs and may die. Four processes with T1 do not fit a test's
// time exhaustively (see README, "Model checking").
const STW = ['NO_T1'];

function report(name: string, v: Verdict): void {
  console.log(`  model ${name}: ${v.states} states, ${v.seconds} s, ${v.memoryMb} MB, errors ${v.errors}${v.kind ? ` (${v.kind})` : ''}`);
}

function holds(name: string, v: Verdict): void {
  report(name, v);
  assert.is(v.truncated, false, 'search was not exhaustive');
  assert.ok(v.states > 1000, 'pan explored the model');
  assert.is(v.errors, 0, v.output);
}

function rejected(name: string, v: Verdict, kind: string): void {
  report(name, v);
  assert.ok(v.errors > 0, `${name} was not rejected`);
  assert.is(v.kind, kind);
}

test('the models name functions that still exist in assembly/*.ts', () =>
  within(5000, async () => {
    const text = await readFile(`${MODEL_DIR}/stw.pml`, 'utf8');
    const head = text.slice(text.indexOf('What mirrors what'), text.indexOf(' * Processes:'));
    const cited = [...head.matchAll(/(state|registry|world)\.ts ([a-zA-Z]+(?:, [a-zA-Z]+)*)/g)];
    assert.ok(cited.length >= 8, 'the header cites the code it mirrors');
    for (const [, file, names] of cited) {
      const src = await readFile(fileURLToPath(new URL(`../../assembly/${file}.ts`, import.meta.url)), 'utf8');
      for (const name of names.split(", ").filter(Boolean)) {
        assert.ok(new RegExp(`function ${name}\\(`).test(src), `${file}.ts has function ${name}`);
      }
    }
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
