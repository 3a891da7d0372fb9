// The parent's half of a fork child's inherited pipes: the pthread layer's
// fork `parentService` (docs/FORK.md "Calls to the parent"), which the
// parent's fork server imports and runs over the parent's memory, where the
// pipes' rings are. Its child half is pipe-bridge.ts, which calls it:
//
// - adopt(record): the child takes the holds its parent's fork took for it
//   (fork-pipes.ts; pipe.c's mover table). Served before the child's ack, so
//   a fork that returns a pid has seen it.
// - read(ring, max): bytes for a reader waiting in the child. Counted as a
//   waiting reader of the parent's ring (WANT), so a grandchild's read reaches
//   through its parent's bridge to the pipe's owner. Answers after a slice
//   with nothing when no byte came, so a child that stopped reading is not
//   left with a read that takes bytes later.
// - write(ring, bytes): all of them, waiting for room; `broken` once no
//   reader is left.
// - release(ring, end): the child's last descriptor of that end closed.
//
// A child's holds go when it is gone, whatever it released (its process
// killed, its carrier dead): "the other party is dead" is decided here.
import { READ_END, WRITE_END, closeEnd, otherEnds, readSome, ringSeq, wantBytes, type PipeEnd } from '../../wasi/pipe.js';
import { adoptRecord } from './fork-pipes.js';
import { ringChangeAsync, writeAllAsync } from './ring-wait.js';

/** How long a read waits in the parent before it answers with nothing (the child asks again while it still reads). */
export const RELAY_READ_SLICE_MS = 1000;

export type RelayCall =
  | { op: 'adopt'; record: number }
  | { op: 'read'; ring: number; max: number }
  | { op: 'write'; ring: number; bytes: Uint8Array }
  | { op: 'release'; ring: number; end: PipeEnd['end'] };

/** A read's answer: bytes, end of file (no writer left), or nothing within the slice. */
export type RelayRead = { bytes: Uint8Array } | { eof: true } | { again: true };

interface ChildKey { key: number; pid: number }

/** One child's holds on the parent's rings (in `memory`): how many descriptors of each end (key `ring:end`). */
class Holds {
  readonly ends = new Map<string, { p: PipeEnd; n: number }>();
  gone = false;

  constructor(private readonly memory?: WebAssembly.Memory) {}

  add(p: PipeEnd): void {
    const k = `${p.ring}:${p.end}`;
    const h = this.ends.get(k);
    if (h) h.n++;
    else this.ends.set(k, { p, n: 1 });
  }

  has(ring: number, end: PipeEnd['end']): boolean {
    return this.ends.has(`${ring}:${end}`);
  }

  release(ring: number, end: PipeEnd['end']): void {
    const k = `${ring}:${end}`;
    const h = this.ends.get(k);
    if (!h) return;
    this.ends.delete(k);
    for (let i = 0; i < h.n; i++) closeEnd(this.memory!, h.p);
  }

  releaseAll(): void {
    for (const { p } of [...this.ends.values()]) this.release(p.ring, p.end);
  }
}

const children = new Map<number, Holds>();

// what a child without holds (none adopted, or gone) reads and writes through: nothing
const none = Object.assign(new Holds(), { gone: true });

async function read(memory: WebAssembly.Memory, h: Holds, ring: number, max: number): Promise<RelayRead> {
  const buf = new Uint8Array(Math.max(1, Math.min(max, 1 << 16)));
  const until = performance.now() + RELAY_READ_SLICE_MS;
  wantBytes(memory, ring, 1);
  try {
    for (;;) {
      // a child that stopped reading (released, gone) takes nothing more
      if (h.gone || !h.has(ring, READ_END)) return { eof: true };
      const seq = ringSeq(memory, ring);
      const n = readSome(memory, ring, buf);
      if (n) return { bytes: buf.slice(0, n) };
      if (otherEnds(memory, { ring, end: READ_END }) === 0) return { eof: true };
      const left = until - performance.now();
      if (left <= 0) return { again: true };
      await ringChangeAsync(memory, ring, seq, left);
    }
  } finally {
    wantBytes(memory, ring, -1);
  }
}

async function write(memory: WebAssembly.Memory, h: Holds, ring: number, bytes: Uint8Array): Promise<{ n: number; broken: boolean }> {
  // a child that stopped writing (released, gone) puts nothing more in
  const n = await writeAllAsync(memory, ring, bytes, () => !h.gone && h.has(ring, WRITE_END));
  return { n, broken: n < bytes.length };
}

/** The fork server's entry (docs/FORK.md "Calls to the parent"): one call of a child. */
export function serveChild({ memory, child, body }: { memory: WebAssembly.Memory; child: ChildKey; body: unknown }): unknown {
  const call = body as RelayCall;
  const h = children.get(child.key) ?? none;
  switch (call?.op) {
    case 'adopt': {
      // synchronous: done before the server takes the child's ack
      const ends = adoptRecord(memory, call.record);
      if (!ends) return { adopted: false };
      const mine = h === none ? new Holds(memory) : h;
      children.set(child.key, mine);
      for (const e of ends) mine.add(e);
      return { adopted: true };
    }
    case 'read':
      return read(memory, h, call.ring, call.max);
    case 'write':
      return write(memory, h, call.ring, call.bytes);
    case 'release':
      h.release(call.ring, call.end);
      return {};
    default:
      throw new Error(`pipe relay: no call ${JSON.stringify((body as { op?: unknown })?.op)}`);
  }
}

/** The child is gone: every hold it had goes, as a native process's descriptors close with it. */
export function childGone(child: ChildKey): void {
  const h = children.get(child.key);
  if (!h) return;
  children.delete(child.key);
  h.gone = true;
  h.releaseAll();
}
