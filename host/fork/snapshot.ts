// The snapshot codec: what a fork hands its child.
//
//   header   HEADER_WORDS u32 words, named by H (below)
//   meta     options (utf-8 JSON, space-padded to a multiple of 4 bytes), then one u32 page index per live page
//   pages    the live pages, PAGE bytes each, in index order
//
// All-zero pages are not carried: a fresh memory is zero. The checksum chains
// checksum32 over the meta region and then each page in order, so a child can
// check pages it read straight into its memory without a second buffer.
//
// Encoding is split in two so a fork stops the world only for the copy:
// `copyLive` (world stopped) scans and copies the live pages, `seal` (world
// running) writes the meta region, the checksum and the header.
import { ABI_VERSION } from '../layout.js';
import { SnapshotError } from '../errors.js';
import { PAGE } from './protocol.js';
import { checksum32, checksumOver } from './checksum.js';
import { simdOver } from './simd.js';

export const SNAPSHOT_MAGIC = 0x4e535457; // "WTSN"
export const SNAPSHOT_VERSION = 3;
export const HEADER_WORDS = 12;
export const HEADER_BYTES = HEADER_WORDS * 4;
/** Header word indexes. */
export const H = {
  MAGIC: 0,
  VERSION: 1,
  ABI: 2,
  MEMORY_BYTES: 3,
  MAXIMUM_PAGES: 4,
  HANDLE: 5,
  PAGES: 6,
  OPTIONS_LEN: 7,
  CHECKSUM: 8,
} as const;
/**
 * How docs/ABI.md names each header word, in order (tests/snapshot.test.ts
 * checks the prose against this list, so the format is described once).
 */
export const HEADER_PROSE: readonly string[] = [
  'magic', 'format version', 'ABI version', 'memory bytes', 'maximum pages', 'forking handle', 'live page count',
  'options length', 'checksum',
];
const PAGE_WORDS = PAGE / 4;

export { SnapshotError, checksum32 };

/** True when page `p` of `mem` is all zero; stops at the first non-zero word. */
export function pageIsZero(mem: Int32Array, p: number): boolean {
  const end = (p + 1) * PAGE_WORDS;
  for (let i = p * PAGE_WORDS; i < end; i += 4) {
    if ((mem[i] | mem[i + 1] | mem[i + 2] | mem[i + 3]) !== 0) return false;
  }
  return true;
}

/** Zeroes page `p` of `memory`: in Wasm (host/fork/simd.ts) when it can, TypedArray.fill over shared memory being ~10× slower. */
export function pageClear(memory: WebAssembly.Memory): (p: number) => void {
  const simd = simdOver(memory);
  if (simd) return (p) => simd.clear(p * PAGE, PAGE);
  return (p) => new Uint8Array(memory.buffer).fill(0, p * PAGE, (p + 1) * PAGE);
}

/** The all-zero test of page `p` of `memory`: in SIMD (host/fork/simd.ts) when it is a Wasm memory and the engine has it. */
export function zeroTest(memory: WebAssembly.Memory | ArrayBufferLike): (p: number) => boolean {
  const simd = memory instanceof WebAssembly.Memory ? simdOver(memory) : undefined;
  if (simd) return (p) => simd.zeroed(p * PAGE) === 1;
  const words = new Int32Array(memory instanceof WebAssembly.Memory ? memory.buffer : memory);
  return (p) => pageIsZero(words, p);
}

const i32 = (u8: Uint8Array, at: number, words: number): Int32Array => new Int32Array(u8.buffer, u8.byteOffset + at, words);

/** Where the meta region and the pages sit for a snapshot of `pages` live pages and `optionsLen` bytes of options. */
export function bodyLayout(pages: number, optionsLen: number): { indexAt: number; pagesAt: number; total: number } {
  const indexAt = HEADER_BYTES + ((optionsLen + 3) & ~3);
  const pagesAt = indexAt + pages * 4;
  return { indexAt, pagesAt, total: pagesAt + pages * PAGE };
}

/** What `copyLive` left in the staging area. */
export interface LiveCopy {
  memoryBytes: number;
  /** Indexes of the copied pages, ascending. */
  pages: Uint32Array;
  /** Where the page data starts in the staging area (room is left before it for header and meta). */
  pagesAt: number;
}

/**
 * World stopped: copies the non-zero pages of `memory` into `staging` at
 * `bodyLayout(n, reserveOptions).pagesAt`. Runs of live pages are copied with
 * one `set` each. `reserveOptions` bounds the options `seal` may write.
 */
export function copyLive(memory: WebAssembly.Memory | ArrayBufferLike, staging: Uint8Array, reserveOptions: number): LiveCopy {
  const bytes = bytesOf(memory);
  const memoryBytes = bytes.byteLength;
  const nPages = memoryBytes / PAGE;
  const isZero = zeroTest(memory);
  const live = new Uint32Array(nPages);
  let n = 0;
  for (let p = 0; p < nPages; p++) if (!isZero(p)) live[n++] = p;
  const pages = live.subarray(0, n);
  // the page data sits where a snapshot with the largest options would put it;
  // seal moves nothing, it pads the options up to this point
  const pagesAt = bodyLayout(n, reserveOptions).pagesAt;
  if (pagesAt + n * PAGE > staging.byteLength) throw new SnapshotError(`staging area of ${staging.byteLength} bytes is too small for ${n} pages`);
  for (let k = 0; k < n; ) {
    let run = 1;
    while (k + run < n && pages[k + run] === pages[k] + run) run++;
    staging.set(bytes.subarray(pages[k] * PAGE, (pages[k] + run) * PAGE), pagesAt + k * PAGE);
    k += run;
  }
  return { memoryBytes, pages, pagesAt };
}

/**
 * World running: writes header and meta in front of the copied pages and
 * checksums them. Returns the snapshot (a view of `staging`). The options are
 * padded to fill the room `copyLive` reserved. `over`: the memory whose buffer
 * `staging` views (the fork control block), so the checksum runs in SIMD.
 */
export function seal(
  staging: Uint8Array, copy: LiveCopy, maximumPages: number, handle: number, options: string, over?: WebAssembly.Memory,
): Uint8Array {
  const opt = new TextEncoder().encode(options);
  const n = copy.pages.length;
  const indexAt = copy.pagesAt - n * 4;
  if (HEADER_BYTES + opt.length > indexAt) throw new SnapshotError(`snapshot options of ${opt.length} bytes exceed the reserved room`);
  staging.fill(0x20, HEADER_BYTES, indexAt); // JSON tolerates trailing spaces
  staging.set(opt, HEADER_BYTES);
  i32(staging, indexAt, n).set(copy.pages);
  const total = copy.pagesAt + n * PAGE;
  const hdr = i32(staging, 0, HEADER_WORDS);
  hdr.fill(0);
  hdr[H.MAGIC] = SNAPSHOT_MAGIC;
  hdr[H.VERSION] = SNAPSHOT_VERSION;
  hdr[H.ABI] = ABI_VERSION;
  hdr[H.MEMORY_BYTES] = copy.memoryBytes;
  hdr[H.MAXIMUM_PAGES] = maximumPages;
  hdr[H.HANDLE] = handle;
  hdr[H.PAGES] = n;
  hdr[H.OPTIONS_LEN] = indexAt - HEADER_BYTES;
  const snap = staging.subarray(0, total);
  const sum = pageSum(staging, over);
  hdr[H.CHECKSUM] = bodyChecksum(snap, (k, h) => sum(copy.pagesAt + k * PAGE, h));
  return snap;
}

/** Encodes `memory` in one go (world already quiet): copyLive + seal into a fresh buffer. */
export function encodeSnapshot(memory: ArrayBufferLike, maximumPages: number, handle: number, options: string): Uint8Array {
  const optLen = new TextEncoder().encode(options).length;
  const bound = bodyLayout(memory.byteLength / PAGE, optLen).total;
  const staging = new Uint8Array(bound);
  return seal(staging, copyLive(memory, staging, optLen), maximumPages, handle, options).slice();
}

/** Whether pageSum may run over `memory` for `view`, which its caller says is a view of it (a shared memory's bytes). */
export const viewsMemory = (view: Uint8Array, memory: WebAssembly.Memory): boolean =>
  view.buffer instanceof SharedArrayBuffer && view.byteOffset + view.byteLength <= memory.buffer.byteLength;

// checksum32 of the page at byte `at` of `view`, chained from `seed`: in SIMD when `over` is the memory `view` is of.
// The caller says so: `over.buffer === view.buffer` does not, as V8 gives every shared memory of a thread a new buffer
// object whenever any shared memory of the process grows (Node 20-24), so a view made when the fork client started
// is of an older object over the same bytes, and the check sent every snapshot of a grown VM to the JavaScript sum.
function pageSum(view: Uint8Array, over?: WebAssembly.Memory): (at: number, seed: number) => number {
  if (over && viewsMemory(view, over)) {
    const sum = checksumOver(over);
    return (at, seed) => sum(view.byteOffset + at, PAGE_WORDS, seed);
  }
  return (at, seed) => checksum32(i32(view, at, PAGE_WORDS), seed);
}

// The checksum of meta + pages; `page(k, h)` chains live page k's words, wherever they are, from h.
function bodyChecksum(head: Uint8Array, page: (k: number, h: number) => number): number {
  const hdr = i32(head, 0, HEADER_WORDS);
  const n = hdr[H.PAGES];
  const { pagesAt } = bodyLayout(n, hdr[H.OPTIONS_LEN]);
  let h = checksum32(i32(head, HEADER_BYTES, (pagesAt - HEADER_BYTES) / 4));
  for (let k = 0; k < n; k++) h = page(k, h);
  return h;
}

// A memory's bytes, and the memory when it is a Wasm one (its checksums then run in SIMD).
const bytesOf = (memory: WebAssembly.Memory | ArrayBufferLike): Uint8Array =>
  new Uint8Array(memory instanceof WebAssembly.Memory ? memory.buffer : memory);
const wasmOf = (memory: WebAssembly.Memory | ArrayBufferLike): WebAssembly.Memory | undefined =>
  (memory instanceof WebAssembly.Memory ? memory : undefined);

export interface SnapshotInfo {
  abi: number;
  memoryBytes: number;
  maximumPages: number;
  handle: number;
  pages: Uint32Array;
  checksum: number;
  options: string;
  /** Byte offset of the page data, and the snapshot's whole length. */
  pagesAt: number;
  total: number;
}

/**
 * Validates header and meta (the first `pagesAt` bytes suffice; `total`
 * is the length the sender says it wrote) and returns them. The pages are
 * checked by `verifyPages` once they are wherever the reader put them.
 */
export function readHead(head: Uint8Array, total: number): SnapshotInfo {
  if (head.byteLength < HEADER_BYTES || head.byteOffset % 4 !== 0) throw new SnapshotError('snapshot truncated (no header)');
  const hdr = i32(head, 0, HEADER_WORDS);
  if (hdr[H.MAGIC] !== SNAPSHOT_MAGIC) throw new SnapshotError(`bad snapshot magic 0x${(hdr[H.MAGIC] >>> 0).toString(16)}`);
  if (hdr[H.VERSION] !== SNAPSHOT_VERSION) throw new SnapshotError(`snapshot format ${hdr[H.VERSION]}, expected ${SNAPSHOT_VERSION}`);
  if (hdr[H.ABI] !== ABI_VERSION) throw new SnapshotError(`snapshot ABI ${hdr[H.ABI]}, this core is ABI ${ABI_VERSION}`);
  const memoryBytes = hdr[H.MEMORY_BYTES] >>> 0;
  const maximumPages = hdr[H.MAXIMUM_PAGES] >>> 0;
  const n = hdr[H.PAGES] >>> 0;
  const optLen = hdr[H.OPTIONS_LEN] >>> 0;
  const layout = bodyLayout(n, optLen);
  if (memoryBytes % PAGE !== 0 || memoryBytes === 0 || memoryBytes / PAGE > maximumPages || n > memoryBytes / PAGE
    || total !== layout.total || head.byteLength < layout.pagesAt) {
    throw new SnapshotError(`snapshot truncated or inconsistent (${total} bytes, header says ${layout.total})`);
  }
  const pages = new Uint32Array(i32(head, layout.indexAt, n));
  for (let k = 0; k < n; k++) {
    if (pages[k] >= memoryBytes / PAGE || (k > 0 && pages[k] <= pages[k - 1])) throw new SnapshotError(`snapshot page index ${pages[k]} out of order or beyond its memory`);
  }
  const options = new TextDecoder().decode(head.slice(HEADER_BYTES, HEADER_BYTES + optLen)).trimEnd();
  return {
    abi: hdr[H.ABI], memoryBytes, maximumPages, handle: hdr[H.HANDLE], pages, checksum: hdr[H.CHECKSUM] >>> 0, options,
    pagesAt: layout.pagesAt, total: layout.total,
  };
}

/** Checks the checksum with the pages read into `memory` (at their own places). */
export function verifyPages(head: Uint8Array, info: SnapshotInfo, memory: WebAssembly.Memory | ArrayBufferLike): void {
  const sum = pageSum(bytesOf(memory), wasmOf(memory));
  const actual = bodyChecksum(head, (k, h) => sum(info.pages[k] * PAGE, h));
  if (actual !== info.checksum) throw new SnapshotError(`snapshot checksum mismatch (0x${actual.toString(16)} != 0x${info.checksum.toString(16)})`);
}

/**
 * The one restore loop: puts each run of consecutive live pages at its place
 * in `memory`, `read(into, at)` filling `into` from snapshot offset `at`
 * (a file read, or a copy out of a buffer).
 */
export function restorePages(info: SnapshotInfo, memory: ArrayBufferLike, read: (into: Uint8Array, at: number) => void): void {
  const n = info.pages.length;
  for (let k = 0; k < n; ) {
    let run = 1;
    while (k + run < n && info.pages[k + run] === info.pages[k] + run) run++;
    read(new Uint8Array(memory, info.pages[k] * PAGE, run * PAGE), info.pagesAt + k * PAGE);
    k += run;
  }
}

/** A `read` for restorePages out of a snapshot held in `buf`. */
export const readFromBuffer = (buf: Uint8Array) => (into: Uint8Array, at: number): void => {
  if (at + into.byteLength > buf.byteLength) throw new SnapshotError('snapshot truncated (pages)');
  into.set(buf.subarray(at, at + into.byteLength));
};

/** Validates a whole snapshot held in one buffer and returns its info and a restore into a memory. */
export function decodeSnapshot(buf: Uint8Array): { info: SnapshotInfo; restore: (into: ArrayBufferLike) => void } {
  if (buf.byteOffset % 4 !== 0) buf = buf.slice();
  const info = readHead(buf, buf.byteLength);
  const sum = pageSum(buf);
  const actual = bodyChecksum(buf, (k, h) => sum(info.pagesAt + k * PAGE, h));
  if (actual !== info.checksum) throw new SnapshotError(`snapshot checksum mismatch (0x${actual.toString(16)} != 0x${info.checksum.toString(16)})`);
  return {
    info,
    restore: (into) => restorePages(info, into, readFromBuffer(buf)),
  };
}

const ZERO_PAGE = new Int32Array(PAGE_WORDS);

/** checksum32 chained over every page of the memory image a snapshot restores, zero pages included (`over`: as for seal). */
export function imageChecksum(snap: Uint8Array, over?: WebAssembly.Memory): number {
  const info = readHead(snap, snap.byteLength);
  const sum = pageSum(snap, over);
  let h = 0x811c9dc5;
  let k = 0;
  for (let p = 0; p < info.memoryBytes / PAGE; p++) {
    if (k < info.pages.length && info.pages[k] === p) h = sum(info.pagesAt + k++ * PAGE, h);
    else h = checksum32(ZERO_PAGE, h);
  }
  return h;
}

/** The same checksum over a live memory. */
export function memoryChecksum(memory: WebAssembly.Memory | ArrayBufferLike): number {
  const bytes = bytesOf(memory);
  const sum = pageSum(bytes, wasmOf(memory));
  let h = 0x811c9dc5;
  for (let p = 0; p < bytes.byteLength / PAGE; p++) h = sum(p * PAGE, h);
  return h;
}
