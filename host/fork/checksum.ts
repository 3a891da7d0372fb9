// The snapshot checksum (host/fork/snapshot.ts chains it over the meta region
// and each page): sixteen FNV-1a lanes over 32-bit words, lane j taking words
// j, j + 16, j + 32, …, folded together with the word count. Sixteen lanes are
// four Wasm SIMD vectors whose multiplies do not wait on each other: over
// memory a Wasm module can read it runs in SIMD (host/fork/simd.ts) at about
// 6× the speed of this JavaScript function, which stays for any other buffer
// and is its reference.
import { simdOver } from './simd.js';

const P = 0x01000193;
// the start of lane j is seed ^ LANE_SEEDS[j >> 2]: one per vector
const LANE_SEEDS = [0, 0x5bd1e995, 0x27d4eb2f, 0x165667b1] as const;
const LANES = 16;

/** The checksum of the words of `w`, chained from `seed`. */
export function checksum32(w: Int32Array, seed = 0x811c9dc5): number {
  const s = seed | 0;
  const lane = new Int32Array(LANES);
  for (let j = 0; j < LANES; j++) lane[j] = s ^ LANE_SEEDS[j >> 2];
  let [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3] = lane;
  const n = w.length;
  const n16 = n - (n % LANES);
  let i = 0;
  for (; i < n16; i += LANES) {
    a0 = Math.imul(a0 ^ w[i], P); a1 = Math.imul(a1 ^ w[i + 1], P); a2 = Math.imul(a2 ^ w[i + 2], P); a3 = Math.imul(a3 ^ w[i + 3], P);
    b0 = Math.imul(b0 ^ w[i + 4], P); b1 = Math.imul(b1 ^ w[i + 5], P); b2 = Math.imul(b2 ^ w[i + 6], P); b3 = Math.imul(b3 ^ w[i + 7], P);
    c0 = Math.imul(c0 ^ w[i + 8], P); c1 = Math.imul(c1 ^ w[i + 9], P); c2 = Math.imul(c2 ^ w[i + 10], P); c3 = Math.imul(c3 ^ w[i + 11], P);
    d0 = Math.imul(d0 ^ w[i + 12], P); d1 = Math.imul(d1 ^ w[i + 13], P); d2 = Math.imul(d2 ^ w[i + 14], P); d3 = Math.imul(d3 ^ w[i + 15], P);
  }
  // a tail (never in a page) goes into lane 0
  for (; i < n; i++) a0 = Math.imul(a0 ^ w[i], P);
  const fold = (a: number, b: number, c: number, d: number) => Math.imul(Math.imul(Math.imul(a ^ b, P) ^ c, P) ^ d, P);
  let h = Math.imul(fold(a0, b0, c0, d0) ^ n, P);
  h = Math.imul(h ^ fold(a1, b1, c1, d1), P);
  h = Math.imul(h ^ fold(a2, b2, c2, d2), P);
  h = Math.imul(h ^ fold(a3, b3, c3, d3), P);
  return h >>> 0;
}

type Sum = (at: number, words: number, seed: number) => number;

const sums = new WeakMap<WebAssembly.Memory, Sum>();

/**
 * A checksum32 over `memory`'s buffer: `sum(at, words, seed)` is checksum32 of
 * the `words` words from byte `at`, in SIMD (host/fork/simd.ts) when `words`
 * is a multiple of 16 and the engine has Wasm SIMD.
 */
export function checksumOver(memory: WebAssembly.Memory): Sum {
  let sum = sums.get(memory);
  if (!sum) {
    const simd = simdOver(memory);
    sum = (at, words, seed) => (simd && words % LANES === 0
      ? simd.sum(at, words, seed) >>> 0
      : checksum32(new Int32Array(memory.buffer, at, words), seed));
    sums.set(memory, sum);
  }
  return sum;
}
