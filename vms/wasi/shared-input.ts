// A process's stdin given whole before it starts, for a host with no stream of
// its own to give (a page): the bytes in a SharedArrayBuffer, one read
// position for every thread of the process, so what one thread reads the next
// does not read again, as with one pipe. Reads never block: after the last
// byte, end of file.
import { InvalidArgumentError } from '../../host/errors.js';

const HEADER = 8;
const POSITION = 0;
const LENGTH = 1;

/** The input `bytes` (a string as UTF-8), to be read by sharedInputReader on any thread. */
export function newSharedInput(bytes: Uint8Array | string): SharedArrayBuffer {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  if (!(data instanceof Uint8Array)) throw new InvalidArgumentError('a shared input is a string or a Uint8Array');
  const sab = new SharedArrayBuffer(HEADER + data.length);
  new Uint8Array(sab, HEADER).set(data);
  Atomics.store(new Int32Array(sab, 0, 2), LENGTH, data.length);
  return sab;
}

/** WasiOptions.stdin over `input`: fills `buffer` from the shared position; 0 at the end. */
export function sharedInputReader(input: SharedArrayBuffer): (buffer: Uint8Array) => number {
  const words = new Int32Array(input, 0, 2);
  return (buffer) => {
    const length = Atomics.load(words, LENGTH);
    for (;;) {
      const at = Atomics.load(words, POSITION);
      const n = Math.min(buffer.length, length - at);
      if (n <= 0) return 0;
      // claim [at, at + n) unless another thread moved the position first
      if (Atomics.compareExchange(words, POSITION, at, at + n) !== at) continue;
      buffer.set(new Uint8Array(input, HEADER + at, n));
      return n;
    }
  };
}
