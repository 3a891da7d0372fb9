// The snapshot codec (host/fork/snapshot.ts): round trips, zero pages, named
// header fields, and every validation failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ABI_VERSION } from '../host/layout.js';
import { PAGE } from '../host/fork/protocol.js';
import {
  H, HEADER_BYTES, HEADER_WORDS, SNAPSHOT_MAGIC, SNAPSHOT_VERSION, SnapshotError, bodyLayout, checksum32, copyLive,
  HEADER_PROSE, decodeSnapshot, encodeSnapshot, imageChecksum, memoryChecksum, pageIsZero, readHead, seal, verifyPages, viewsMemory,
} from '../host/fork/snapshot.js';
import { readFileSync } from 'node:fs';

// 8 pages, live: 0, 2, 3 (a run), 7 (a single non-zero word at its very end)
function memory(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(8 * PAGE);
  const u32 = new Uint32Array(sab);
  for (let i = 0; i < PAGE / 4; i++) u32[i] = i * 2654435761;
  for (let i = (2 * PAGE) / 4; i < (4 * PAGE) / 4; i += 7) u32[i] = i;
  u32[(8 * PAGE) / 4 - 1] = 1;
  return sab;
}

const header = (snap: Uint8Array) => new Uint32Array(snap.buffer, snap.byteOffset, HEADER_WORDS);

test('encode → decode restores the memory exactly, carrying only the live pages', () => {
  const mem = memory();
  const snap = encodeSnapshot(mem, 16, 0x1234, JSON.stringify({ data: 'x' }));
  const { info, restore } = decodeSnapshot(snap);
  assert.equal([...info.pages], [0, 2, 3, 7]);
  assert.is(info.memoryBytes, 8 * PAGE);
  assert.is(info.maximumPages, 16);
  assert.is(info.handle, 0x1234);
  assert.equal(JSON.parse(info.options), { data: 'x' });
  assert.is(snap.byteLength, bodyLayout(4, header(snap)[H.OPTIONS_LEN]).total);
  const into = new ArrayBuffer(8 * PAGE);
  restore(into);
  assert.equal(new Uint8Array(into), new Uint8Array(mem));
  assert.is(imageChecksum(snap), memoryChecksum(mem), 'the image checksum is the checksum of the restored memory');
});

test('named header fields sit where the format says', () => {
  const snap = encodeSnapshot(memory(), 16, 7, '{}');
  const h = header(snap);
  assert.is(h[H.MAGIC], SNAPSHOT_MAGIC);
  assert.is(h[H.VERSION], SNAPSHOT_VERSION);
  assert.is(h[H.ABI], ABI_VERSION);
  assert.is(h[H.MEMORY_BYTES], 8 * PAGE);
  assert.is(h[H.MAXIMUM_PAGES], 16);
  assert.is(h[H.HANDLE], 7);
  assert.is(h[H.PAGES], 4);
  assert.is(h[H.OPTIONS_LEN] % 4, 0);
  assert.is(HEADER_BYTES, HEADER_WORDS * 4);
});

test('copyLive + seal (the fork path) equals encodeSnapshot, and pages read elsewhere verify', () => {
  const mem = memory();
  const staging = new Uint8Array(new SharedArrayBuffer(16 * PAGE));
  const copy = copyLive(mem, staging, 100);
  const snap = seal(staging, copy, 16, 3, '{"a":1}');
  const info = readHead(snap, snap.byteLength);
  assert.equal([...info.pages], [0, 2, 3, 7]);
  assert.equal(JSON.parse(info.options), { a: 1 });
  // a child reads header + meta, puts the pages straight into its memory, then verifies
  const child = new SharedArrayBuffer(8 * PAGE);
  const dst = new Uint8Array(child);
  info.pages.forEach((p, k) => dst.set(snap.subarray(info.pagesAt + k * PAGE, info.pagesAt + (k + 1) * PAGE), p * PAGE));
  verifyPages(snap.subarray(0, info.pagesAt), info, child);
  assert.equal(dst, new Uint8Array(mem));
  dst[3 * PAGE + 5] ^= 1;
  assert.throws(() => verifyPages(snap.subarray(0, info.pagesAt), info, child), (e: unknown) => e instanceof SnapshotError && /checksum/.test((e as Error).message));
});

test('seal over a control block sums in SIMD after another shared memory grew, with the same checksum as without', () => {
  const control = new WebAssembly.Memory({ initial: 20, maximum: 20, shared: true });
  const staging = new Uint8Array(control.buffer, 64);
  const other = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
  other.grow(1); // V8 gives the control block a new buffer object: the view above is of an older one
  assert.ok(viewsMemory(staging, control), 'the staging area is still taken as a view of the control block');
  assert.not.ok(viewsMemory(new Uint8Array(new SharedArrayBuffer(21 * PAGE)), control), 'a view larger than the memory is not');
  assert.not.ok(viewsMemory(new Uint8Array(21 * PAGE).subarray(0, PAGE), control), 'an unshared buffer is not');
  const mem = memory();
  const simd = seal(staging, copyLive(mem, staging, 2), 16, 3, '{}', control); // the room encodeSnapshot reserves for '{}'
  const plain = encodeSnapshot(mem, 16, 3, '{}');
  assert.is(header(simd)[H.CHECKSUM], header(plain)[H.CHECKSUM]);
  assert.is(imageChecksum(simd, control), imageChecksum(plain));
});

test('zero detection stops at a non-zero word anywhere in the page', () => {
  const i32 = new Int32Array(new SharedArrayBuffer(2 * PAGE));
  assert.ok(pageIsZero(i32, 0) && pageIsZero(i32, 1));
  for (const at of [0, 1, 2, 3, PAGE / 4 - 1]) {
    i32[PAGE / 4 + at] = -1;
    assert.not.ok(pageIsZero(i32, 1), `word ${at}`);
    assert.ok(pageIsZero(i32, 0));
    i32[PAGE / 4 + at] = 0;
  }
});

test('the checksum sees the order of words and every lane', () => {
  // two rounds of the sixteen lanes and a tail
  const a = Int32Array.from({ length: 35 }, (_, i) => i + 1);
  const base = checksum32(a);
  for (let i = 0; i < a.length; i++) {
    const b = a.slice();
    b[i] ^= 0x100;
    assert.is.not(checksum32(b), base, `word ${i}`);
  }
  assert.is.not(checksum32(new Int32Array([2, 1, 3, 4])), checksum32(new Int32Array([1, 2, 3, 4])));
  assert.is.not(checksum32(a, 1), base, 'seeded');
});

const bad: [string, (s: Uint8Array) => Uint8Array, RegExp][] = [
  ['magic', (s) => { header(s)[H.MAGIC] ^= 1; return s; }, /magic/],
  ['format version', (s) => { header(s)[H.VERSION] += 1; return s; }, /format/],
  ['ABI', (s) => { header(s)[H.ABI] += 1; return s; }, /ABI/],
  ['truncated', (s) => s.subarray(0, s.byteLength - 4096), /truncated/],
  ['no header', (s) => s.subarray(0, 20), /truncated/],
  ['page data', (s) => { s[s.byteLength - 1] ^= 0xff; return s; }, /checksum/],
  ['page index', (s) => { const at = bodyLayout(0, header(s)[H.OPTIONS_LEN]).indexAt; new Uint32Array(s.buffer, s.byteOffset + at, 1)[0] = 99; return s; }, /page index|checksum/],
  ['memory size', (s) => { header(s)[H.MEMORY_BYTES] = 100; return s; }, /inconsistent/],
  ['options', (s) => { s[HEADER_BYTES] ^= 0x20; return s; }, /checksum/],
];
for (const [what, spoil, message] of bad) {
  test(`a snapshot with a bad ${what} is refused with SnapshotError`, () => {
    const snap = spoil(encodeSnapshot(memory(), 16, 1, '{}'));
    assert.throws(() => decodeSnapshot(snap), (e: unknown) => e instanceof SnapshotError && (e as SnapshotError).code === 'E_SNAPSHOT' && message.test((e as Error).message));
  });
}

test('a staging area too small for the live pages is refused before anything is written past it', () => {
  assert.throws(() => copyLive(memory(), new Uint8Array(2 * PAGE), 0), (e: unknown) => e instanceof SnapshotError);
});

test.run();

test('docs/ABI.md describes the snapshot format the codec writes: header words in order, sizes, magic, version, padding', () => {
  const abi = readFileSync(new URL('../../docs/ABI.md', import.meta.url), 'utf8');
  const m = /snapshot format \(`host\/fork\/snapshot\.ts`\): a (\d+)-byte header of u32 words \(([^)]*\)[^)]*)\), the options \(UTF-8 JSON, (\w+)-padded/.exec(abi.replace(/\s+/g, ' '));
  assert.ok(m, 'the format paragraph is where the test looks for it');
  assert.is(Number(m![1]), HEADER_BYTES);
  const words = m![2].split(/, /).map((w) => w.replace(/ `.*$| \(.*$/, ''));
  const named = HEADER_PROSE.length;
  assert.equal(words.slice(0, named), words.slice(0, named).map((w, i) => (w.startsWith(HEADER_PROSE[i]) ? w : `${HEADER_PROSE[i]}?`)));
  assert.is(words[named], `${HEADER_WORDS - named} reserved`);
  assert.is(words.length, named + 1);
  // the named fields of the codec are the prose's, in the same order
  assert.equal(Object.values(H), HEADER_PROSE.map((_, i) => i).slice(0, Object.keys(H).length));
  assert.is(Object.keys(H).length, named);
  assert.ok(m![2].includes(`0x${SNAPSHOT_MAGIC.toString(16).toUpperCase()}`), 'the magic');
  assert.ok(m![2].includes(`format version ${SNAPSHOT_VERSION}`), 'the format version');
  // seal pads the options with spaces
  const snap = encodeSnapshot(memory(), 16, 1, '{}');
  assert.is(snap[HEADER_BYTES + 2], 0x20);
  assert.is(m![3], 'space');
});
