// One file system for every thread of a process whose threads are workers:
// the file system lives on one thread (a page's own, which must not block),
// and each worker's WASI reaches it through a channel in a SharedArrayBuffer
// with node:fs's synchronous calls (RemoteFs). A caller takes the channel's
// lock, posts its call, and waits for the answer (a blocking wait, so a VM
// runs it detached: the `blocking` parameter); the server answers each call
// as its event loop turns (serveFs, which never blocks). Calls are one at a
// time; reads and writes larger than the channel go in pieces.
//
// Layout, i32 words: LOCK (0 free, 1 held), STATE (IDLE, CALLED, ANSWERED),
// LENGTH (bytes of the message), CLOSED (the server has stopped); the message
// from byte DATA: a u32 length of its JSON part, the JSON, then raw bytes.
import { InvalidArgumentError } from '../../host/errors.js';
import { waitAsync } from '../../host/wait.js';
import type { WasiFs, WasiStat } from './wasi.js';

const LOCK = 0;
const STATE = 1;
const LENGTH = 2;
const CLOSED = 3;
const DATA = 16;
const IDLE = 0;
const CALLED = 1;
const ANSWERED = 2;
/** What a caller waits for in one piece before it checks that the server is still there. */
const SLICE_MS = 1000;

/** A channel with room for messages of `bytes`. */
export function newFsChannel(bytes = 1 << 20): SharedArrayBuffer {
  if (!Number.isInteger(bytes) || bytes < 4096 || bytes > 1 << 30) {
    throw new InvalidArgumentError(`a file channel's size is an integer in [4096, ${1 << 30}] bytes, got ${String(bytes)}`);
  }
  return new SharedArrayBuffer(DATA + bytes);
}

/** A stat as it crosses the channel: its methods as a type. */
interface StatJson { type: 'dir' | 'file' | 'link' | 'other'; size: number; ino: number; dev: number; nlink: number; atime: string; mtime: string; ctime: string }

function statToJson(st: WasiStat): StatJson {
  const ns = (exact: bigint | undefined, ms: number | bigint | undefined) =>
    String(exact ?? (typeof ms === 'bigint' ? ms * 1_000_000n : BigInt(Math.round(Number(ms ?? 0) * 1e6))));
  return {
    type: st.isSymbolicLink?.() ? 'link' : st.isDirectory() ? 'dir' : st.isFile?.() ?? true ? 'file' : 'other',
    size: Number(st.size ?? 0), ino: Number(st.ino ?? 0), dev: Number(st.dev ?? 0), nlink: Number(st.nlink ?? 1),
    atime: ns(st.atimeNs, st.atimeMs), mtime: ns(st.mtimeNs, st.mtimeMs), ctime: ns(st.ctimeNs, st.ctimeMs),
  };
}

function statFromJson(j: StatJson): WasiStat & { size: number } {
  return {
    isDirectory: () => j.type === 'dir', isFile: () => j.type === 'file', isSymbolicLink: () => j.type === 'link',
    size: j.size, ino: j.ino, dev: j.dev, nlink: j.nlink, atimeNs: BigInt(j.atime), mtimeNs: BigInt(j.mtime), ctimeNs: BigInt(j.ctime),
  };
}

const enc = new TextEncoder();

/** Writes a message (JSON part, raw bytes) into the channel; its length goes to LENGTH. */
function put(channel: SharedArrayBuffer, json: unknown, raw?: Uint8Array): void {
  const head = enc.encode(JSON.stringify(json));
  const room = channel.byteLength - DATA - 4;
  if (head.length + (raw?.length ?? 0) > room) throw Object.assign(new Error('message larger than the channel'), { code: 'EIO' });
  const bytes = new Uint8Array(channel);
  new DataView(channel).setUint32(DATA, head.length, true);
  bytes.set(head, DATA + 4);
  if (raw) bytes.set(raw, DATA + 4 + head.length);
  Atomics.store(new Int32Array(channel), LENGTH, 4 + head.length + (raw?.length ?? 0));
}

function take(channel: SharedArrayBuffer): { json: unknown; raw: Uint8Array } {
  const n = Atomics.load(new Int32Array(channel), LENGTH);
  const headLen = new DataView(channel).getUint32(DATA, true);
  const bytes = new Uint8Array(channel, DATA + 4, n - 4).slice();
  return { json: JSON.parse(new TextDecoder().decode(bytes.subarray(0, headLen))), raw: bytes.subarray(headLen) };
}

interface Call { m: string; a: unknown[] }
type Answer = { ok: unknown } | { err: string; message: string };

/**
 * Serves `fs` on `channel` from this thread until stop(): every wait is asynchronous (a page's own thread may run
 * it). The calls are WasiFs's; a stat is answered as StatJson, a read's bytes and a write's data as raw bytes.
 */
export function serveFs(channel: SharedArrayBuffer, fs: WasiFs): { stop(): void } {
  const w = new Int32Array(channel);
  let stopped = false;
  const answer = (call: Call, raw: Uint8Array): [Answer, Uint8Array?] => {
    const f = (fs as unknown as Record<string, (...a: unknown[]) => unknown>)[call.m];
    if (typeof f !== 'function' || call.m === 'constructor') return [{ err: 'ENOSYS', message: `no ${call.m}` }];
    try {
      if (call.m === 'readSync') {
        const [fd, length, position] = call.a as [number, number, number | null];
        const buf = new Uint8Array(length);
        const n = fs.readSync(fd, buf, 0, length, position);
        return [{ ok: n }, buf.subarray(0, n)];
      }
      if (call.m === 'writeSync') {
        const [fd, position] = call.a as [number, number | null];
        return [{ ok: fs.writeSync(fd, raw, 0, raw.length, position) }];
      }
      const result = f.apply(fs, call.a);
      const isStat = (r: unknown): r is WasiStat => !!r && typeof (r as WasiStat).isDirectory === 'function';
      return [{ ok: isStat(result) ? statToJson(result) : result ?? null }];
    } catch (e) {
      return [{ err: (e as { code?: string }).code ?? 'EIO', message: e instanceof Error ? e.message : String(e) }];
    }
  };
  void (async () => {
    while (!stopped) {
      const s = Atomics.load(w, STATE);
      if (s !== CALLED) {
        await waitAsync(w, STATE * 4, s, SLICE_MS);
        continue;
      }
      const { json, raw } = take(channel);
      const [a, bytes] = answer(json as Call, raw);
      put(channel, a, bytes);
      Atomics.store(w, STATE, ANSWERED);
      Atomics.notify(w, STATE);
    }
  })();
  return {
    stop() {
      stopped = true;
      Atomics.store(w, CLOSED, 1);
      Atomics.notify(w, STATE);
      Atomics.notify(w, LOCK);
    },
  };
}

/**
 * node:fs's synchronous calls, answered by the server of `channel` (serveFs). `blocking` runs each wait for the
 * channel and for the answer (a VM's thread runs them detached); a stopped server fails every call with EIO.
 */
export class RemoteFs implements WasiFs {
  readonly constants = { O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_TRUNC: 0o1000, O_APPEND: 0o2000 };
  private readonly w: Int32Array;
  /** The largest read or write in one call: the rest goes in the next. */
  private readonly piece: number;

  constructor(private readonly channel: SharedArrayBuffer, private readonly blocking: <T>(f: () => T) => T = (f) => f()) {
    this.w = new Int32Array(channel);
    this.piece = Math.floor((channel.byteLength - DATA) / 2);
  }

  private call(m: string, a: unknown[], raw?: Uint8Array): { ok: unknown; raw: Uint8Array } {
    const { w } = this;
    const closed = () => Atomics.load(w, CLOSED) !== 0;
    const gone = () => Object.assign(new Error('the file system has stopped'), { code: 'EIO' });
    const answer = this.blocking(() => {
      while (Atomics.compareExchange(w, LOCK, 0, 1) !== 0) {
        if (closed()) throw gone();
        Atomics.wait(w, LOCK, 1, SLICE_MS);
      }
      try {
        put(this.channel, { m, a } satisfies Call, raw);
        Atomics.store(w, STATE, CALLED);
        Atomics.notify(w, STATE);
        while (Atomics.load(w, STATE) !== ANSWERED) {
          if (closed()) throw gone();
          Atomics.wait(w, STATE, CALLED, SLICE_MS);
        }
        const got = take(this.channel);
        Atomics.store(w, STATE, IDLE);
        return got;
      } finally {
        Atomics.store(w, LOCK, 0);
        Atomics.notify(w, LOCK, 1);
      }
    });
    const a2 = answer.json as Answer;
    if ('err' in a2) throw Object.assign(new Error(a2.message), { code: a2.err });
    return { ok: a2.ok, raw: answer.raw };
  }

  private value<T>(m: string, ...a: unknown[]): T { return this.call(m, a).ok as T; }

  openSync(path: string, flags: number, mode?: number): number { return this.value('openSync', path, flags, mode); }
  closeSync(fd: number): void { this.call('closeSync', [fd]); }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    let done = 0;
    while (done < length) {
      const want = Math.min(this.piece, length - done);
      const r = this.call('readSync', [fd, want, position === null ? null : position + done]);
      buffer.set(r.raw, offset + done);
      done += r.raw.length;
      if (r.raw.length < want) break;
    }
    return done;
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    let done = 0;
    while (done < length) {
      const n = Math.min(this.piece, length - done);
      done += this.call('writeSync', [fd, position === null ? null : position + done], buffer.subarray(offset + done, offset + done + n)).ok as number;
    }
    return done;
  }

  fstatSync(fd: number): WasiStat & { size: number } { return statFromJson(this.value('fstatSync', fd)); }
  statSync(path: string): WasiStat { return statFromJson(this.value('statSync', path)); }
  lstatSync(path: string): WasiStat { return statFromJson(this.value('lstatSync', path)); }
  readdirSync(path: string): string[] { return this.value('readdirSync', path); }
  mkdirSync(path: string, mode?: number): void { this.call('mkdirSync', [path, mode]); }
  rmdirSync(path: string): void { this.call('rmdirSync', [path]); }
  unlinkSync(path: string): void { this.call('unlinkSync', [path]); }
  renameSync(from: string, to: string): void { this.call('renameSync', [from, to]); }
  linkSync(existing: string, path: string): void { this.call('linkSync', [existing, path]); }
  ftruncateSync(fd: number, len: number): void { this.call('ftruncateSync', [fd, len]); }
  utimesSync(path: string, atime: number, mtime: number): void { this.call('utimesSync', [path, atime, mtime]); }
  fsyncSync(fd: number): void { this.call('fsyncSync', [fd]); }
}
