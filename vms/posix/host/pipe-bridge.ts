// The child's half of its inherited pipes (pipe-relay.ts is the parent's):
// on the child's process service, whose event loop is free, one pump per
// inherited end between the child's local ring (pipe.c inherit)
// and its parent's ring, through the parent's fork server.
//
// - A read end: the pump writes the local ring and fetches the parent's bytes
//   only while a reader of the child waits on it (RING_WANT): a child that
//   closes its read end without reading takes nothing its parent would read.
// - A write end: the pump reads the local ring, hands the bytes to the relay
//   and only then takes them out of the ring; a write of the child returns
//   when its bytes were taken (BRIDGED), so they are in the parent's pipe
//   before the child can exit.
//
// The last descriptor of an end closing in the child, or the parent's side
// ending (end of file, no reader left, the parent gone), ends the pump and
// the child's hold in the parent.
import { READ_END, WRITE_END, closeEnd, otherEnds, peekSome, readSome, ringSeq, wanted, type PipeEnd } from '../../wasi/pipe.js';
import type { RelayCall, RelayRead } from './pipe-relay.js';
import { RING_SLICE_MS, ringChangeAsync, writeAllAsync } from './ring-wait.js';

/** A call to the parent's fork server (the fork continuation's ctx.callParent). */
export type ParentCall = (body: RelayCall) => Promise<unknown>;

/** An inherited end: its ring in the parent's memory, and the child's local ring for it. */
export interface BridgedEnd { parent: number; end: PipeEnd['end']; local: number }

/** The parent's bytes into the local ring while a reader of the child waits, until end of file or no reader is left. */
async function fetchInto(memory: WebAssembly.Memory, call: ParentCall, parent: number, local: number): Promise<void> {
  const mine: PipeEnd = { ring: local, end: WRITE_END };
  try {
    for (;;) {
      const seq = ringSeq(memory, local);
      if (otherEnds(memory, mine) === 0) break;
      if (wanted(memory, local) === 0) {
        await ringChangeAsync(memory, local, seq, RING_SLICE_MS);
        continue;
      }
      const r = (await call({ op: 'read', ring: parent, max: 1 << 16 })) as RelayRead;
      if ('eof' in r) break;
      if (!('bytes' in r)) continue;
      await writeAllAsync(memory, local, r.bytes);
    }
  } catch {
    // the parent is gone: end of file for the child's readers
  } finally {
    closeEnd(memory, mine);
    void call({ op: 'release', ring: parent, end: READ_END }).catch(() => undefined);
  }
}

/** The local ring's bytes to the parent's ring, until the child's last writer closed and the ring is empty, or no reader is left. */
async function forwardFrom(memory: WebAssembly.Memory, call: ParentCall, parent: number, local: number): Promise<void> {
  const mine: PipeEnd = { ring: local, end: READ_END };
  const buf = new Uint8Array(1 << 16);
  try {
    for (;;) {
      const seq = ringSeq(memory, local);
      // a look, not a take: the writer's write returns once the parent has the bytes
      const n = peekSome(memory, local, buf);
      if (n) {
        const r = (await call({ op: 'write', ring: parent, bytes: buf.slice(0, n) })) as { n: number; broken: boolean };
        readSome(memory, local, new Uint8Array(n));
        if (r.broken) break;
        continue;
      }
      if (otherEnds(memory, mine) === 0) break;
      await ringChangeAsync(memory, local, seq, RING_SLICE_MS);
    }
  } catch {
    // the parent is gone: the child's writers find no reader
  } finally {
    closeEnd(memory, mine);
    void call({ op: 'release', ring: parent, end: WRITE_END }).catch(() => undefined);
  }
}

/** Starts a pump per inherited end; settles when every one has ended. */
export function bridgeEnds(memory: WebAssembly.Memory, call: ParentCall, ends: BridgedEnd[]): Promise<void> {
  return Promise.all(ends.map((e) => (e.end === READ_END ? fetchInto : forwardFrom)(memory, call, e.parent, e.local))).then(() => undefined);
}
