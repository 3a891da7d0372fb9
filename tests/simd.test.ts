// The fork's passes over memory in Wasm SIMD (host/fork/simd.ts): the
// checksum is the JavaScript reference's (host/fork/checksum.ts), word for
// word, over Wasm memories at any page, other word counts falling back to the
// reference; the zero-page test is pageIsZero's, wherever a page's first
// non-zero byte is; clearing zeroes one page; the embedded module is the text
// beside it, assembled.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { checksum32, checksumOver } from '../host/fork/checksum.js';
import { SIMD_WAT_BYTES } from '../host/fork/simd.js';
import { pageClear, pageIsZero, zeroTest } from '../host/fork/snapshot.js';

const PAGE = 65536;

function randomMemory(pages: number, seed: number): WebAssembly.Memory {
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const u32 = new Uint32Array(memory.buffer);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < u32.length; i++) u32[i] = x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
  return memory;
}

test('the SIMD checksum is the reference, over whole pages, runs of words, any seed', () => {
  const memory = randomMemory(3, 7);
  const sum = checksumOver(memory);
  const words = new Int32Array(memory.buffer);
  for (const [at, n] of [[0, PAGE / 4], [PAGE, PAGE / 4], [2 * PAGE - 64, 16], [128, 0], [PAGE + 4096, 160], [0, (3 * PAGE) / 4]]) {
    for (const seed of [0x811c9dc5, 0, -1, 0x12345678]) {
      assert.is(sum(at, n, seed), checksum32(words.subarray(at / 4, at / 4 + n), seed), `${n} words at ${at}, seed ${seed}`);
    }
  }
});

test('a word count that is not a multiple of sixteen is the reference\'s too', () => {
  const memory = randomMemory(1, 11);
  const sum = checksumOver(memory);
  const words = new Int32Array(memory.buffer);
  for (const n of [1, 9, 15, 17, 33, 1001]) assert.is(sum(256, n, 5), checksum32(words.subarray(64, 64 + n), 5), `${n} words`);
});

test('every word of every lane counts, and so does the order of the words', () => {
  const memory = randomMemory(1, 3);
  const sum = checksumOver(memory);
  const words = new Int32Array(memory.buffer);
  const base = sum(0, 64, 1);
  for (let i = 0; i < 64; i++) {
    words[i] ^= 0x100;
    assert.is.not(sum(0, 64, 1), base, `word ${i}`);
    words[i] ^= 0x100;
  }
  [words[0], words[16]] = [words[16], words[0]];
  assert.is.not(sum(0, 64, 1), base, 'two words of one lane swapped');
});

test('the zero-page test is pageIsZero\'s: a page with any byte set anywhere is not zero', () => {
  const pages = 4;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const bytes = new Uint8Array(memory.buffer);
  const words = new Int32Array(memory.buffer);
  const isZero = zeroTest(memory);
  for (let p = 0; p < pages; p++) assert.ok(isZero(p), `page ${p} of a fresh memory`);
  for (const at of [0, 1, 15, 16, 63, 64, 4095, PAGE / 2 + 7, PAGE - 1]) {
    for (let p = 0; p < pages; p++) {
      bytes[p * PAGE + at] = 0x80;
      for (let q = 0; q < pages; q++) assert.is(isZero(q), pageIsZero(words, q), `byte ${at} of page ${p} set: page ${q}`);
      assert.not.ok(isZero(p), `byte ${at} of page ${p}`);
      bytes[p * PAGE + at] = 0;
    }
  }
});

test('clearing a page zeroes that page and nothing around it', () => {
  const memory = new WebAssembly.Memory({ initial: 3, maximum: 3, shared: true });
  const bytes = new Uint8Array(memory.buffer);
  bytes.fill(7);
  pageClear(memory)(1);
  assert.ok(bytes.subarray(PAGE, 2 * PAGE).every((b) => b === 0), 'page 1 is zero');
  assert.ok(bytes.subarray(0, PAGE).every((b) => b === 7) && bytes.subarray(2 * PAGE).every((b) => b === 7), 'pages 0 and 2 are untouched');
});

test('the embedded module is the text beside it, assembled by binaryen', async () => {
  const { default: binaryen } = (await import('binaryen')) as unknown as {
    default: { parseText(t: string): { setFeatures(f: number): void; emitBinary(): Uint8Array }; Features: Record<string, number> };
  };
  const source = readFileSync(new URL('../../host/fork/simd.ts', import.meta.url), 'utf8');
  const m = /\/\/ \(module\n([\s\S]*?)\nexport const SIMD_WAT_BYTES/.exec(source);
  assert.ok(m, 'the module text is in the source');
  const wat = `(module\n${m![1].split('\n').map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}`;
  const mod = binaryen.parseText(wat);
  mod.setFeatures(binaryen.Features.SIMD128 | binaryen.Features.Atomics | binaryen.Features.BulkMemory);
  assert.is(Buffer.from(mod.emitBinary()).toString('hex'), SIMD_WAT_BYTES);
});

test.run();
