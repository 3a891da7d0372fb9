// A fork.parentService for the tests (tests/lib/parent-calls-cases.ts), under
// Node and in a page alike: it reads and writes the memory of the runtime
// whose fork server imported it (the parent's, or a child's for a grandchild),
// and counts each watched child's end in a word of that memory.
import type { ParentServiceCall, ParentServiceChild } from '../../host/fork/parent-calls.js';

export type ServiceBody =
  | { op: 'read'; addr: number; len: number }
  /** read once the word at addr is no longer `from` (polled, bounded): the parent changes it after the fork */
  | { op: 'readChanged'; addr: number; len: number; from: number }
  | { op: 'write'; addr: number; bytes: Uint8Array }
  /** stores `value` at addr synchronously, on receipt */
  | { op: 'mark'; addr: number; value: number }
  /** counts this child's end (childGone) at addr; stores its pid at addr + 4 */
  | { op: 'watch'; addr: number }
  | { op: 'fail'; message: string; sync: boolean }
  | { op: 'whoami' };

const CHANGE_DEADLINE_MS = 10_000;
// one server, one memory: childGone is told only the child
let memory: WebAssembly.Memory | undefined;
const watched = new Map<number, number>();

export function serveChild({ memory: m, child, body }: ParentServiceCall): unknown {
  memory = m;
  const b = body as ServiceBody;
  const words = new Int32Array(m.buffer);
  switch (b.op) {
    case 'read':
      return new Uint8Array(m.buffer).slice(b.addr, b.addr + b.len);
    case 'readChanged':
      return (async () => {
        const end = performance.now() + CHANGE_DEADLINE_MS;
        while (Atomics.load(words, b.addr >> 2) === b.from) {
          if (performance.now() > end) throw new Error(`the word at ${b.addr} stayed ${b.from}`);
          await new Promise((r) => setTimeout(r, 1));
        }
        return new Uint8Array(m.buffer).slice(b.addr, b.addr + b.len);
      })();
    case 'write':
      if (!(b.bytes instanceof Uint8Array)) throw new Error(`bytes arrived as ${Object.prototype.toString.call(b.bytes)}`);
      new Uint8Array(m.buffer).set(b.bytes, b.addr);
      return b.bytes.byteLength;
    case 'mark':
      Atomics.store(words, b.addr >> 2, b.value);
      return child.pid;
    case 'watch':
      watched.set(child.key, b.addr);
      Atomics.store(words, (b.addr >> 2) + 1, child.pid);
      return child.key;
    case 'fail':
      if (b.sync) throw new Error(b.message);
      return Promise.reject(new Error(b.message));
    case 'whoami':
      return { key: child.key, pid: child.pid };
  }
}

export function childGone(child: ParentServiceChild): void {
  const addr = watched.get(child.key);
  if (addr === undefined || !memory) return;
  const words = new Int32Array(memory.buffer);
  Atomics.add(words, addr >> 2, 1);
  Atomics.notify(words, addr >> 2);
}
