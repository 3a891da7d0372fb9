// A stdin given whole (vms/wasi/shared-input.ts): one read position for every
// thread, so four workers reading at once share out the bytes — each byte read
// once, none lost — and then all see end of file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { newSharedInput, sharedInputReader } from '../vms/wasi/shared-input.js';
import { within } from './lib/helpers.js';

test('reads in order from one thread, then end of file; an empty input is at its end', () => {
  const read = sharedInputReader(newSharedInput('hello\nworld\n'));
  const buf = new Uint8Array(4);
  const parts: string[] = [];
  for (let n; (n = read(buf)) > 0;) parts.push(new TextDecoder().decode(buf.subarray(0, n)));
  assert.equal(parts, ['hell', 'o\nwo', 'rld\n']);
  assert.is(read(buf), 0);
  assert.is(sharedInputReader(newSharedInput(''))(buf), 0);
});

test('four workers reading together (as far as their starts overlap) get every byte exactly once', async () => {
  const bytes = new Uint8Array(200_000).map((_, i) => i % 251);
  const input = newSharedInput(bytes);
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.module).then(({ sharedInputReader }) => {
      const read = sharedInputReader(workerData.input);
      const got = [];
      const buf = new Uint8Array(7);
      for (let n; (n = read(buf)) > 0;) got.push(Array.from(buf.subarray(0, n)));
      parentPort.postMessage(got);
    });`;
  const module = new URL('../vms/wasi/shared-input.js', import.meta.url).href;
  const chunks = await within(60_000, () => Promise.all([0, 1, 2, 3].map(() => new Promise<number[][]>((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData: { input, module } });
    w.once('message', (m: number[][]) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  }))), 'four readers');
  // each byte once: as many bytes as the input, and as many of each value
  const histogram = (xs: Iterable<number>) => { const h = new Array<number>(256).fill(0); for (const x of xs) h[x]++; return h; };
  assert.is(chunks.flat().reduce((n, c) => n + c.length, 0), bytes.length);
  assert.equal(histogram(chunks.flat(2)), histogram(bytes));
});

test.run();
