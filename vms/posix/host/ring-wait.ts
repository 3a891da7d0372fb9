// A pipe ring's change awaited on a thread that must not block (the process
// service, a fork server, a child's carrier): vms/wasi/pipe.ts's waitChange
// for an event loop.
import { RING_SEQ } from '../../wasi/pipe.js';
import { waitAsync } from '../../../host/wait.js';

/** The ring's change from `seq`, awaited (or `ms` passing). */
export const ringChangeAsync = (memory: WebAssembly.Memory, ring: number, seq: number, ms: number): Promise<void> =>
  waitAsync(new Int32Array(memory.buffer), ring + RING_SEQ * 4, seq, ms);
