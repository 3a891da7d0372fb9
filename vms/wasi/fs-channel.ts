// One file system for every thread of a process whose threads are workers:
// the file system lives on one thread (a page's own, which must not block),
// and each worker's WASI reaches it through a call channel (call-channel.ts)
// with node:fs's synchronous calls (RemoteFs); the server answers each as its
// event loop turns (serveFs). Reads and writes larger than the channel go in
// pieces.
import { CALL_DATA, errorAnswer, newCallChannel, remoteCall, serveCalls, type Answered, type Call } from './call-channel.js';
import type { WasiFs, WasiStat } from './wasi.js';

/** A channel with room for messages of `bytes`. */
export function newFsChannel(bytes = 1 << 20): SharedArrayBuffer {
  return newCallChannel(bytes, 'a file channel');
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

/**
 * Serves `fs` on `channel` from this thread until stop(): every wait is asynchronous (a page's own thread may run
 * it). The calls are WasiFs's; a stat is answered as StatJson, a read's bytes and a write's data as raw bytes.
 */
export function serveFs(channel: SharedArrayBuffer, fs: WasiFs): { stop(): Promise<void> } {
  return serveCalls(channel, (call: Call, raw: Uint8Array): Answered => {
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
      return errorAnswer(e);
    }
  });
}

/**
 * node:fs's synchronous calls, answered by the server of `channel` (serveFs). `blocking` runs each wait for the
 * channel and for the answer (a VM's thread runs them detached); a stopped server fails every call with EIO.
 */
export class RemoteFs implements WasiFs {
  readonly constants = { O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_TRUNC: 0o1000, O_APPEND: 0o2000 };
  /** The largest read or write in one call: the rest goes in the next. */
  private readonly piece: number;

  constructor(private readonly channel: SharedArrayBuffer, private readonly blocking: <T>(f: () => T) => T = (f) => f()) {
    this.piece = Math.floor((channel.byteLength - CALL_DATA) / 2);
  }

  private call(m: string, a: unknown[], raw?: Uint8Array): { ok: unknown; raw: Uint8Array } {
    return remoteCall(this.channel, this.blocking, 'the file system has stopped', m, a, raw);
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
