// A process's pipe descriptors, one table for all its threads: each thread
// has a WASI table of its own (wasi.ts), but a pipe made on one thread is
// read and written on others (a thread that reads a child's stdout while
// another writes its stdin; a subinterpreter's thread writing to the main
// thread's pipe). The table is a SharedArrayBuffer every thread's WASI gets;
// a pipe's descriptors are numbered from PIPE_FD_BASE up, apart from each
// thread's own, and below select()'s FD_SETSIZE (1024).
//
// ## A slot (i32 words)
// STATE: the generation << 2 | FREE, CLAIMED or OPEN; RING, END: the pipe end
// (pipe.ts); FLAGS: its fdflags (NONBLOCK).
//
//   FREE(g) ──claim (CAS)──▶ CLAIMED(g) ──fields written──▶ OPEN(g) ──close (CAS)──▶ FREE(g+1)
//
// | transition       | mover                              | how   |
// |------------------|------------------------------------|-------|
// | FREE → CLAIMED   | a thread's pipe()                  | CAS   |
// | FREE → CLAIMED   | a fork child's inherited end, at   | CAS   |
// |                  | its parent's number (openAt)       |       |
// | CLAIMED → OPEN   | the claimer, its fields written    | store |
// | CLAIMED → FREE   | the claimer, when the pair's other | store |
// |  (g+1)           | slot could not be claimed          |       |
// | OPEN → FREE(g+1) | the close that wins (any thread)   | CAS   |
//
// A reader takes a slot's fields in one snapshot: STATE, the fields, STATE
// again, both OPEN and equal; else the descriptor is closed (or reused).
import { READ_END, WRITE_END, closeEnd, type PipeEnd } from './pipe.js';

export const PIPE_FD_BASE = 512;
const SLOTS = 256;
const WORDS = 4;
const STATE = 0;
const RING = 1;
const END = 2;
const FLAGS = 3;
const FREE = 0;
const CLAIMED = 1;
const OPEN = 2;

/** A new table, for one process. */
export const newPipeFds = (): SharedArrayBuffer => new SharedArrayBuffer(SLOTS * WORDS * 4);

/** An open descriptor as a fork lists it: what the child's descriptor of the same number is. */
export interface ListedPipeEnd extends PipeEnd { fd: number; flags: number }

/** One open pipe descriptor of the table: its end, and its flags read and written through. */
export interface SharedPipeEnd extends PipeEnd {
  kind: 'pipe';
  flags: number;
}

export class PipeFds {
  readonly #w: Int32Array;

  constructor(table: SharedArrayBuffer) {
    this.#w = new Int32Array(table);
  }

  /** Whether `fd` is in the table's range (open or not). */
  static covers(fd: number): boolean {
    return fd >= PIPE_FD_BASE && fd < PIPE_FD_BASE + SLOTS;
  }

  /** Descriptors for the two ends of the pipe at `ring` (already held for them): [read, write]; undefined when the table has no two free slots. */
  openPair(ring: number): [number, number] | undefined {
    const r = this.#claim();
    if (r === undefined) return undefined;
    const w = this.#claim();
    if (w === undefined) {
      // the claimer's own slot, never open: back to FREE
      Atomics.store(this.#w, r * WORDS + STATE, (Atomics.load(this.#w, r * WORDS + STATE) & ~3) + 4);
      return undefined;
    }
    this.#open(r, { ring, end: READ_END });
    this.#open(w, { ring, end: WRITE_END });
    return [PIPE_FD_BASE + r, PIPE_FD_BASE + w];
  }

  /**
   * Descriptor `fd` for end `p` (already held for it) with `flags`, as a fork child's inherited one gets its number;
   * false when that slot is taken.
   */
  openAt(fd: number, p: PipeEnd, flags: number): boolean {
    if (!PipeFds.covers(fd)) return false;
    const i = fd - PIPE_FD_BASE;
    const s = Atomics.load(this.#w, i * WORDS + STATE);
    if ((s & 3) !== FREE || Atomics.compareExchange(this.#w, i * WORDS + STATE, s, (s & ~3) | CLAIMED) !== s) return false;
    this.#open(i, p, flags);
    return true;
  }

  /** Every open descriptor, each read in one snapshot (one that closes meanwhile may be listed or not). */
  list(): ListedPipeEnd[] {
    const out: ListedPipeEnd[] = [];
    for (let i = 0; i < SLOTS; i++) {
      const p = this.get(PIPE_FD_BASE + i);
      if (p) out.push({ fd: PIPE_FD_BASE + i, ring: p.ring, end: p.end, flags: p.flags });
    }
    return out;
  }

  /** A FREE slot moved to CLAIMED, or undefined. */
  #claim(): number | undefined {
    const w = this.#w;
    for (let i = 0; i < SLOTS; i++) {
      const s = Atomics.load(w, i * WORDS + STATE);
      if ((s & 3) === FREE && Atomics.compareExchange(w, i * WORDS + STATE, s, (s & ~3) | CLAIMED) === s) return i;
    }
    return undefined;
  }

  /** The claimer publishes its slot: fields first, then OPEN. */
  #open(i: number, p: PipeEnd, flags = 0): void {
    const w = this.#w;
    const at = i * WORDS;
    Atomics.store(w, at + RING, p.ring);
    Atomics.store(w, at + END, p.end);
    Atomics.store(w, at + FLAGS, flags);
    Atomics.store(w, at + STATE, (Atomics.load(w, at + STATE) & ~3) | OPEN);
  }

  /** The open descriptor `fd`, or undefined. */
  get(fd: number): SharedPipeEnd | undefined {
    if (!PipeFds.covers(fd)) return undefined;
    const w = this.#w;
    const at = (fd - PIPE_FD_BASE) * WORDS;
    const s = Atomics.load(w, at + STATE);
    if ((s & 3) !== OPEN) return undefined;
    const ring = Atomics.load(w, at + RING);
    const end = Atomics.load(w, at + END) as PipeEnd['end'];
    if (Atomics.load(w, at + STATE) !== s) return undefined;
    return {
      kind: 'pipe', ring, end,
      get flags() { return Atomics.load(w, at + FLAGS); },
      set flags(v: number) { Atomics.store(w, at + FLAGS, v); },
    };
  }

  /** Closes `fd` (the one close that wins lets the end go); false when it was not open. */
  close(fd: number, memory: WebAssembly.Memory): boolean {
    if (!PipeFds.covers(fd)) return false;
    const w = this.#w;
    const at = (fd - PIPE_FD_BASE) * WORDS;
    const s = Atomics.load(w, at + STATE);
    if ((s & 3) !== OPEN) return false;
    const p = { ring: Atomics.load(w, at + RING), end: Atomics.load(w, at + END) as PipeEnd['end'] };
    if (Atomics.compareExchange(w, at + STATE, s, (s & ~3) + 4) !== s) return false;
    closeEnd(memory, p);
    return true;
  }

  /** Closes every open descriptor: the process has ended, as a native one's end closes its fds. */
  closeAll(memory: WebAssembly.Memory): void {
    for (let i = 0; i < SLOTS; i++) this.close(PIPE_FD_BASE + i, memory);
  }
}
