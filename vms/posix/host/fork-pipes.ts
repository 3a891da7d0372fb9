// A fork's inherited pipe ends: the record the pthread layer keeps in the
// forking process's memory (vms/posix/src/pipe.c struct fork_pipes, which has
// its mover table), as its three users read and write it:
// - the forking thread's host lists its process's open pipe descriptors into
//   it and holds each end once more for the child (listForFork), and lets the
//   holds go when the fork returns unadopted (releaseRecord);
// - the parent's fork server adopts it for the child (adoptRecord,
//   pipe-relay.ts), whose relay then holds the ends;
// - the child reads its copy (readRecord) to give its table each descriptor.
// Imports nothing but the ring's ends (vms/wasi/pipe.ts), so the fork
// server's module loads little.
import { closeEnd, holdEnd, type PipeEnd } from '../../wasi/pipe.js';
import type { ListedPipeEnd } from '../../wasi/pipe-fds.js';

// pipe.c: owner, count, 2 words of padding, then { fd, ring, end, flags } per descriptor
const OWNER = 0;
const COUNT = 1;
const ENTRIES = 4;
const ENTRY_WORDS = 4;
export const FORKING = 1;
export const CHILD = 2;

const words = (memory: WebAssembly.Memory, record: number, n: number) => new Int32Array(memory.buffer, record, ENTRIES + n * ENTRY_WORDS);

/** Lists `ends` (at most `cap`) into the record at `record`, each end held once more for the child: how many. */
export function listForFork(memory: WebAssembly.Memory, record: number, cap: number, ends: ListedPipeEnd[]): number {
  const n = Math.min(cap, ends.length);
  const w = words(memory, record, n);
  for (let i = 0; i < n; i++) {
    const e = ends[i];
    holdEnd(memory, e);
    w.set([e.fd, e.ring, e.end, e.flags], ENTRIES + i * ENTRY_WORDS);
  }
  Atomics.store(w, COUNT, n);
  return n;
}

/** The record's descriptors. */
export function readRecord(memory: WebAssembly.Memory, record: number): ListedPipeEnd[] {
  const n = Atomics.load(new Int32Array(memory.buffer, record, ENTRIES), COUNT);
  const w = words(memory, record, n);
  const out: ListedPipeEnd[] = [];
  for (let i = 0; i < n; i++) {
    const at = ENTRIES + i * ENTRY_WORDS;
    out.push({ fd: w[at], ring: w[at + 1], end: w[at + 2] as PipeEnd['end'], flags: w[at + 3] });
  }
  return out;
}

/** Lets every hold of the record go (the forking thread's, after its CAS to RELEASED won: pipe.c). */
export function releaseRecord(memory: WebAssembly.Memory, record: number): void {
  for (const e of readRecord(memory, record)) closeEnd(memory, e);
}

/** The child's own copy of the record says what its parent's relay did: the child's layer gives it the descriptors (pipe.c inherit). */
export function markAdopted(memory: WebAssembly.Memory, record: number): void {
  Atomics.store(new Int32Array(memory.buffer, record, ENTRIES), OWNER, CHILD);
}

/** The child's relay takes the record's holds (FORKING → CHILD): its descriptors, or undefined when the parent let them go first. */
export function adoptRecord(memory: WebAssembly.Memory, record: number): ListedPipeEnd[] | undefined {
  const w = new Int32Array(memory.buffer, record, ENTRIES);
  if (Atomics.compareExchange(w, OWNER, FORKING, CHILD) !== FORKING) return undefined;
  return readRecord(memory, record);
}
