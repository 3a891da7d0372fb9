// The memory map as the host sees it. The numbers come from abi/abi.json via
// host/layout.generated.ts (the map itself is drawn in assembly/layout.ts and
// docs/ABI.md); this file adds only what is derived from them.
export * from './layout.generated.js';
import { SLOTS, SLOT_SIZE, SL_USER, INDEX_MASK, GEN_MASK, CACHE_WRITERS, CACHE_WRITER_STRIPES } from './layout.generated.js';

export const slotAddr = (index: number): number => SLOTS + index * SLOT_SIZE;
export const userWordAddr = (index: number, k: number): number => slotAddr(index) + SL_USER + k * 4;
export const handleIndex = (h: number): number => h & INDEX_MASK;
/** The handle of slot `index` whose word is `word` (its generation bits and the index). */
export const handleOf = (word: number, index: number): number => (word & GEN_MASK) | index;
/** The writer word (0, or the handle of the thread inside a write) of cache entry `index`. */
export const cacheWriterAddr = (index: number): number => CACHE_WRITERS + (index % CACHE_WRITER_STRIPES) * 4;
