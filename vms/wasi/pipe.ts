// A pipe: a ring in a process's shared memory (the pthread layer's pipe(),
// vms/posix/src/pipe.c, allocates it and documents its words), with two kinds
// of user: a thread's WASI, whose fd_read and fd_write block (runPipe*: the
// wait runs inside the caller's `blocking`, detached for a VM's thread), and
// the process service pumping a spawned child's stdio, which never blocks
// (vms/posix/host/spawn.ts awaits the ring's change count). Imports nothing:
// a shell without modules evaluates it with wasi.ts as one script.
//
// ## Words (i32, from the ring's address)
// ENDS: open read ends in the low 16 bits, write ends in the high 16; 0 is a
// free ring, which the next pipe() takes by CAS. Each end's holder (an fd of
// a WASI table, the process service) adds 1 when it gets the end and takes 1
// away when it closes it, by Atomics.add: the ring frees itself when the last
// end goes. HEAD and TAIL count the bytes written and read (mod 2^32). SEQ
// moves at every write, read and close, and wakes every waiter: a waiter reads
// SEQ before it looks, so no change between its look and its wait is missed.
// WANT counts the readers waiting for bytes (a blocking read, a poll): in a
// fork child, what makes the bridge of an inherited end fetch its parent's
// bytes (vms/posix/host/pipe-bridge.ts). FLAGS: BRIDGED on such a ring, whose
// writes return once the bridge has taken their bytes.
//
// Several may read and write one ring at once (a parent and its child's
// relay). A reader copies the bytes from TAIL to HEAD out, then claims them by
// CAS on TAIL: no writer touches them until TAIL has moved past. A writer
// copies in only while it holds LOCK, which it moves 0 → 1 by CAS and back to
// 0 by store, around the copy and HEAD's move alone. A writer that finds LOCK
// taken for long answers as for a full ring (0 bytes), and its caller waits on
// SEQ as for room: so a holder that died in its copy leaves writers waiting,
// as a reader that died does, never spinning.
export const RING_ENDS = 0;
export const RING_HEAD = 1;
export const RING_TAIL = 2;
export const RING_SIZE = 3;
export const RING_SEQ = 4;
export const RING_WANT = 5;
export const RING_FLAGS = 6;
export const RING_LOCK = 7;
export const RING_BRIDGED = 1;
/** Where the bytes start (pipe.c PIPE_DATA). */
export const RING_DATA = 64;
export const READ_END = 1;
export const WRITE_END = 1 << 16;

/** One end of a pipe in `memory` at byte `ring`. */
export interface PipeEnd { ring: number; end: typeof READ_END | typeof WRITE_END }

const words = (memory: WebAssembly.Memory, ring: number) => new Int32Array(memory.buffer, ring, RING_DATA / 4);

const bump = (w: Int32Array) => {
  Atomics.add(w, RING_SEQ, 1);
  Atomics.notify(w, RING_SEQ);
};

/** The open ends of the ring's other side (write ends for a reader). */
export function otherEnds(memory: WebAssembly.Memory, p: PipeEnd): number {
  const ends = Atomics.load(words(memory, p.ring), RING_ENDS);
  return p.end === READ_END ? ends >>> 16 : ends & 0xffff;
}

/** Another holder of end `p` (a dup, the process service's hold on a child's end). */
export function holdEnd(memory: WebAssembly.Memory, p: PipeEnd): void {
  Atomics.add(words(memory, p.ring), RING_ENDS, p.end);
}

/** A holder closes end `p`: the other side sees end of file (a reader) or a broken pipe (a writer) once no one holds it. */
export function closeEnd(memory: WebAssembly.Memory, p: PipeEnd): void {
  const w = words(memory, p.ring);
  Atomics.sub(w, RING_ENDS, p.end);
  bump(w);
}

/** Bytes waiting to be read. */
function available(w: Int32Array): number {
  return (Atomics.load(w, RING_HEAD) - Atomics.load(w, RING_TAIL)) >>> 0;
}

/** Copies `n` bytes from `tail` on out of the ring. */
function copyOut(memory: WebAssembly.Memory, ring: number, size: number, tail: number, into: Uint8Array, n: number): void {
  const data = new Uint8Array(memory.buffer, ring + RING_DATA, size);
  const at = (tail >>> 0) % size;
  const first = Math.min(n, size - at);
  into.set(data.subarray(at, at + first), 0);
  if (first < n) into.set(data.subarray(0, n - first), first);
}

/** Copies up to into.length waiting bytes out; how many (0: none waiting). */
export function readSome(memory: WebAssembly.Memory, ring: number, into: Uint8Array): number {
  const w = words(memory, ring);
  for (;;) {
    // the bytes from tail to head are no writer's until TAIL moves past them: copy, then claim them by CAS
    const tail = Atomics.load(w, RING_TAIL);
    const n = Math.min((Atomics.load(w, RING_HEAD) - tail) >>> 0, into.length);
    if (!n) return 0;
    copyOut(memory, ring, w[RING_SIZE], tail, into, n);
    if (Atomics.compareExchange(w, RING_TAIL, tail, (tail + n) | 0) !== tail) continue;
    bump(w);
    return n;
  }
}

/** Copies up to into.length waiting bytes out and leaves them there (for a ring's only reader, which takes them later with readSome). */
export function peekSome(memory: WebAssembly.Memory, ring: number, into: Uint8Array): number {
  const w = words(memory, ring);
  const tail = Atomics.load(w, RING_TAIL);
  const n = Math.min((Atomics.load(w, RING_HEAD) - tail) >>> 0, into.length);
  if (n) copyOut(memory, ring, w[RING_SIZE], tail, into, n);
  return n;
}

/** How many times a writer tries LOCK before it answers 0: another writer's copy takes microseconds. */
const LOCK_TRIES = 1000;

/** Copies as much of `from` in as there is room for; how many (0: the ring is full, or another writer is copying). */
export function writeSome(memory: WebAssembly.Memory, ring: number, from: Uint8Array): number {
  const w = words(memory, ring);
  let tries = 0;
  while (Atomics.compareExchange(w, RING_LOCK, 0, 1) !== 0) if (++tries === LOCK_TRIES) return 0;
  let n: number;
  try {
    const size = w[RING_SIZE];
    n = Math.min(size - available(w), from.length);
    if (!n) return 0;
    const head = Atomics.load(w, RING_HEAD) >>> 0;
    const data = new Uint8Array(memory.buffer, ring + RING_DATA, size);
    const at = head % size;
    const first = Math.min(n, size - at);
    data.set(from.subarray(0, first), at);
    if (first < n) data.set(from.subarray(first, n), 0);
    Atomics.add(w, RING_HEAD, n);
  } finally {
    Atomics.store(w, RING_LOCK, 0);
  }
  bump(w);
  return n;
}

/** A reader starts (1) or stops (-1) waiting for bytes: a start wakes the ring's waiters (an inherited end's bridge). */
export function wantBytes(memory: WebAssembly.Memory, ring: number, delta: 1 | -1): void {
  const w = words(memory, ring);
  Atomics.add(w, RING_WANT, delta);
  if (delta > 0) bump(w);
}

/** Readers waiting for bytes. */
export const wanted = (memory: WebAssembly.Memory, ring: number): number => Atomics.load(words(memory, ring), RING_WANT);

/** Whether the ring is an inherited end's in a fork child (its writes wait for the bridge). */
export const bridged = (memory: WebAssembly.Memory, ring: number): boolean =>
  (Atomics.load(words(memory, ring), RING_FLAGS) & RING_BRIDGED) !== 0;

/** Bytes read so far (mod 2^32): a writer that waits for its bytes to be taken compares it with HEAD after its write. */
export const ringTail = (memory: WebAssembly.Memory, ring: number): number => Atomics.load(words(memory, ring), RING_TAIL);
export const ringHead = (memory: WebAssembly.Memory, ring: number): number => Atomics.load(words(memory, ring), RING_HEAD);

/** The ring's change count: read before a look, then waitChange from it. */
export const ringSeq = (memory: WebAssembly.Memory, ring: number): number => Atomics.load(words(memory, ring), RING_SEQ);

/** Blocks until the ring changes from `seq` or `ms` passes (inside the caller's `blocking`). */
export function waitChange(memory: WebAssembly.Memory, ring: number, seq: number, ms: number): void {
  Atomics.wait(words(memory, ring), RING_SEQ, seq, ms);
}

/** Whether a read would not block: bytes waiting, or no writer left (end of file). */
export const readable = (memory: WebAssembly.Memory, ring: number): boolean =>
  available(words(memory, ring)) > 0 || otherEnds(memory, { ring, end: READ_END }) === 0;

/** Whether a write would not block: room, or no reader left (a broken pipe). */
export function writable(memory: WebAssembly.Memory, ring: number): boolean {
  const w = words(memory, ring);
  return available(w) < w[RING_SIZE] || otherEnds(memory, { ring, end: WRITE_END }) === 0;
}
