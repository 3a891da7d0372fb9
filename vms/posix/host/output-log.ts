// A process's output as one log in a SharedArrayBuffer: every write of fd 1
// or 2, from any thread, is a record with its fd, in the order the writes
// happened. A reader on another thread (a page's own, which must not block)
// reads what is complete while the process runs, and all of it after. A plain
// capture (vms/lua/host/threads.ts) keeps the order but loses the fd; one
// message per write (a BroadcastChannel) keeps the fd but not the order of
// writes from different workers.
//
// Layout: word 0 is the bytes reserved so far; records start at DATA, each a
// header word (len << 2 | fd) and its bytes padded to 4. A writer reserves its
// record with one Atomics.add, copies its bytes, then stores the header: a
// reader that finds a header of 0 has reached a write still being copied.

import { InvalidArgumentError } from '../../../host/errors.js';

const DATA = 8;
/** A record's length is 30 bits of its header word, and a log's offsets are int32s. */
const MAX_BYTES = 1 << 29;
/** A header's fd for a write that did not fit: the log ends there. */
const FD_TRUNCATED = 3;

export interface OutputRecord { fd: 1 | 2; bytes: Uint8Array }

/** A log with room for `bytes` of records. */
export function newOutputLog(bytes = 1 << 20): SharedArrayBuffer {
  if (!Number.isInteger(bytes) || bytes < 4 || bytes > MAX_BYTES) {
    throw new InvalidArgumentError(`an output log's size is an integer in [4, ${MAX_BYTES}] bytes, got ${String(bytes)}`);
  }
  return new SharedArrayBuffer(DATA + ((bytes + 3) & ~3));
}

/** Appends one write of fd 1 or 2 (any thread). */
export function appendOutput(log: SharedArrayBuffer, fd: 1 | 2, bytes: Uint8Array): void {
  const words = new Int32Array(log);
  const room = log.byteLength - DATA;
  const size = 4 + ((bytes.length + 3) & ~3);
  const at = Atomics.add(words, 0, size);
  if (at + 4 > room) return;
  if (at + size > room) {
    Atomics.store(words, (DATA + at) >> 2, FD_TRUNCATED);
    return;
  }
  new Uint8Array(log, DATA + at + 4, bytes.length).set(bytes);
  Atomics.store(words, (DATA + at) >> 2, (bytes.length << 2) | fd);
}

export interface OutputRead {
  records: OutputRecord[];
  /** Where the next read starts. */
  next: number;
  /** The log filled up: writes after `next` were dropped. */
  truncated: boolean;
}

/** The complete records from offset `from` (0 first, then the last read's `next`). */
export function readOutput(log: SharedArrayBuffer, from = 0): OutputRead {
  if (!Number.isInteger(from) || from < 0 || from % 4 !== 0) {
    throw new InvalidArgumentError(`readOutput: from is 0 or a previous read's next, got ${String(from)}`);
  }
  const words = new Int32Array(log);
  const room = log.byteLength - DATA;
  const records: OutputRecord[] = [];
  let at = from;
  while (at + 4 <= room && at < Atomics.load(words, 0)) {
    const header = Atomics.load(words, (DATA + at) >> 2);
    if (header === 0) break;
    if ((header & 3) === FD_TRUNCATED) return { records, next: at, truncated: true };
    const len = header >>> 2;
    records.push({ fd: (header & 3) as 1 | 2, bytes: new Uint8Array(log, DATA + at + 4, len).slice() });
    at += 4 + ((len + 3) & ~3);
  }
  return { records, next: at, truncated: Atomics.load(words, 0) > room && at + 4 > room };
}

/** Everything written to `fd` so far, decoded as UTF-8. */
export function outputText(log: SharedArrayBuffer, fd: 1 | 2): string {
  const parts = readOutput(log).records.filter((r) => r.fd === fd).map((r) => r.bytes);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return new TextDecoder().decode(all);
}
