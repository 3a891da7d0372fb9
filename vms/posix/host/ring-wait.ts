// A pipe ring's waits on a thread that must not block (the process service, a
// fork server, a child's carrier): vms/wasi/pipe.ts's waitChange, and a
// blocking write, for an event loop.
import { RING_SEQ, WRITE_END, otherEnds, ringSeq, writeSome } from '../../wasi/pipe.js';
import { waitAsync } from '../../../host/wait.js';

/** How long a wait for a ring's change lasts before its waiter looks again (its other party may have gone meanwhile). */
export const RING_SLICE_MS = 1000;

/** The ring's change from `seq`, awaited (or `ms` passing). */
export const ringChangeAsync = (memory: WebAssembly.Memory, ring: number, seq: number, ms: number): Promise<void> =>
  waitAsync(new Int32Array(memory.buffer), ring + RING_SEQ * 4, seq, ms);

/**
 * Writes `bytes` into the ring, waiting for room, while a reader is left and `going()` says so; how many it wrote
 * (fewer than all: no reader is left, or the writer stopped).
 */
export async function writeAllAsync(memory: WebAssembly.Memory, ring: number, bytes: Uint8Array, going: () => boolean = () => true): Promise<number> {
  let done = 0;
  while (done < bytes.length && going() && otherEnds(memory, { ring, end: WRITE_END }) > 0) {
    const seq = ringSeq(memory, ring);
    const n = writeSome(memory, ring, bytes.subarray(done));
    done += n;
    if (!n) await ringChangeAsync(memory, ring, seq, RING_SLICE_MS);
  }
  return done;
}
