// Model checking: the Promela models beside the code (assembly/model) hold
// every property exhaustively, and each seeded bug is rejected, which shows the
// properties can fail (the stop's seeded bugs and the robust lock:
// tests/model-seeded.test.ts). Needs spin and gcc (.ci/run installs spin).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MODEL_DIR, SAFETY, STW, verify, holds } from './lib/model-checker.js';
import { within } from './lib/helpers.js';


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

test.run();
