// WASI preview1 over a shared WebAssembly.Memory: the calls wasi-libc makes for
// Lua and CPython (the import lists of build/lua.wasm and build/python.wasm,
// docs/LUA.md, docs/PYTHON.md). node:wasi does not take
// an imported shared memory and browsers have no WASI, so this is the one
// implementation; the platform comes in as parameters (output sinks, stdin,
// clocks, a file system with node:fs's synchronous shape).
//
// One Wasi per thread instance: its descriptor table is that thread's own
// (stdio and the preopens are the same everywhere; a file opened on one
// thread is not visible on another). Pipes (pipe.ts) are rings in the shared
// memory that the pthread layer's pipe() hands to openPipe; given the
// process's pipe table (pipe-fds.ts), their descriptors are every thread's.
import {
  READ_END, WRITE_END, bridged, closeEnd, holdEnd, otherEnds, readSome, readable, ringHead, ringSeq, ringTail, waitChange, wantBytes, writable, writeSome,
  type PipeEnd,
} from './pipe.js';
import { PIPE_FD_BASE, PipeFds, type ListedPipeEnd } from './pipe-fds.js';


/** WASI errno values (preview1). */
export const Errno = {
  SUCCESS: 0, ACCES: 2, AGAIN: 6, BADF: 8, EXIST: 20, INVAL: 28, IO: 29, ISDIR: 31, NOENT: 44, NOSYS: 52,
  NOTDIR: 54, NOTEMPTY: 55, PERM: 63, SPIPE: 70, NOTCAPABLE: 76, FAULT: 21, NOSPC: 51, NAMETOOLONG: 37,
  LOOP: 32, XDEV: 75, NOTSUP: 58, RANGE: 68, PIPE: 64,
} as const;

const NODE_ERRNO: Record<string, number> = {
  EACCES: Errno.ACCES, EBADF: Errno.BADF, EEXIST: Errno.EXIST, EINVAL: Errno.INVAL, EIO: Errno.IO,
  EISDIR: Errno.ISDIR, ENOENT: Errno.NOENT, ENOTDIR: Errno.NOTDIR, ENOTEMPTY: Errno.NOTEMPTY, EPERM: Errno.PERM,
  ESPIPE: Errno.SPIPE, ENOSPC: Errno.NOSPC, ENAMETOOLONG: Errno.NAMETOOLONG, EXDEV: 75, EBUSY: 10, EMFILE: 33,
  ELOOP: Errno.LOOP, ENOTSUP: Errno.NOTSUP, EOPNOTSUPP: Errno.NOTSUP, EROFS: 69, EMLINK: 34, EPIPE: Errno.PIPE,
  EAGAIN: Errno.AGAIN, ESRCH: 71, ECHILD: 12, ENOEXEC: 45,
};

/** WASI's errno for a host error's code (Node's names); EIO for one it does not know. */
export function wasiErrno(code: string | undefined): number {
  if (code === 'ENOTCAPABLE') return Errno.NOTCAPABLE;
  if (code === 'ENOSYS') return Errno.NOSYS;
  return (code ? NODE_ERRNO[code] : undefined) ?? Errno.IO;
}

const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;
const FILETYPE_SYMBOLIC_LINK = 7;
const LOOKUP_SYMLINK_FOLLOW = 1;
const FSTFLAGS_ATIM = 1;
const FSTFLAGS_ATIM_NOW = 2;
const FSTFLAGS_MTIM = 4;
const FSTFLAGS_MTIM_NOW = 8;
const EVENTTYPE_CLOCK = 0;
const EVENTTYPE_FD_READ = 1;
const EVENTRWFLAGS_HANGUP = 1;
const FDFLAGS_NONBLOCK = 4;
const SUBCLOCKFLAGS_ABSTIME = 1;
const OFLAGS_CREAT = 1;
const OFLAGS_DIRECTORY = 2;
const OFLAGS_EXCL = 4;
const OFLAGS_TRUNC = 8;
const FDFLAGS_APPEND = 1;
const RIGHTS_FD_READ = 1n << 1n;
const RIGHTS_FD_WRITE = 1n << 6n;
const RIGHTS_ALL = (1n << 30n) - 1n;
// isatty() in wasi-libc: a character device without seek/tell rights.
const RIGHTS_TTY = RIGHTS_ALL & ~((1n << 2n) | (1n << 5n));

/** The file system: node:fs's synchronous calls (node:fs itself under Node; any object of this shape elsewhere). */
export interface WasiFs {
  openSync(path: string, flags: number, mode?: number): number;
  closeSync(fd: number): void;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  fstatSync(fd: number): { size: number; isDirectory(): boolean };
  statSync(path: string, opts?: { bigint?: boolean }): WasiStat;
  unlinkSync(path: string): void;
  renameSync(from: string, to: string): void;
  rmdirSync(path: string): void;
  // Optional: a file system without one of these answers its call with ENOSYS.
  lstatSync?(path: string, opts?: { bigint?: boolean }): WasiStat;
  readdirSync?(path: string): string[];
  mkdirSync?(path: string, mode?: number): unknown;
  readlinkSync?(path: string): string;
  symlinkSync?(target: string, path: string): void;
  linkSync?(existing: string, path: string): void;
  ftruncateSync?(fd: number, len: number): void;
  utimesSync?(path: string, atime: number, mtime: number): void;
  fsyncSync?(fd: number): void;
  constants: { O_RDONLY: number; O_WRONLY: number; O_RDWR: number; O_CREAT: number; O_EXCL: number; O_TRUNC: number; O_APPEND: number };
}

/** What path_filestat_get reports (node:fs's Stats has every field). */
export interface WasiStat {
  isDirectory(): boolean;
  isFile?(): boolean;
  isCharacterDevice?(): boolean;
  isSymbolicLink?(): boolean;
  size?: number | bigint;
  dev?: number | bigint;
  ino?: number | bigint;
  nlink?: number | bigint;
  atimeMs?: number | bigint;
  mtimeMs?: number | bigint;
  ctimeMs?: number | bigint;
  /** Nanosecond times (node:fs with { bigint: true }): preferred over the ms ones when present. */
  atimeNs?: bigint;
  mtimeNs?: bigint;
  ctimeNs?: bigint;
}

/** Throws as node:fs does, for a WasiFs of a host's own: an Error with `code` (ENOENT, EROFS…), which Wasi maps to its errno. */
export function fsError(code: string, what: string): never {
  throw Object.assign(new Error(`${code}: ${what}`), { code });
}

export interface WasiOptions {
  /** argv, argv[0] first. */
  args: string[];
  env?: Record<string, string>;
  /** Bytes written to fd 1 and fd 2. */
  stdout(bytes: Uint8Array): void;
  stderr(bytes: Uint8Array): void;
  /** Fills `buffer` from fd 0; 0 at end of input. Absent: stdin is empty. */
  stdin?(buffer: Uint8Array): number;
  /** Which of fds 0–2 are terminals (isatty). */
  isatty?(fd: number): boolean;
  /** Host files: the preopened directories, guest name -> host path, e.g. { '.': process.cwd(), '/tmp': os.tmpdir() }. */
  preopens?: Record<string, string>;
  fs?: WasiFs;
  /** This process's CPU time in ns (os.clock); default: the monotonic clock. */
  cpuTimeNs?(): bigint;
  /**
   * The monotonic clock in ns, one for every thread of the process (Node: process.hrtime). Default: the page's
   * time origin plus performance.now(), which is per thread in a worker and so must not be used alone.
   */
  monotonicNs?(): bigint;
  /** Host path join: '/' unless the platform needs another. */
  joinPath?(dir: string, rel: string): string;
  /**
   * Blocks the calling thread for `ms` (poll_oneoff's clock: sleep, select with a timeout). Default:
   * Atomics.wait on a private cell. A VM that must wait detached wraps it.
   */
  sleepMs?(ms: number): void;
  /**
   * Runs `f`, which blocks (a read of an empty pipe, a write to a full one, a poll on pipes). Default: runs it. A VM
   * whose threads must wait detached wraps it.
   */
  blocking?<T>(f: () => T): T;
  /** The process's pipe table (pipe-fds.ts newPipeFds): pipes made here are every thread's. Absent: this table's own. */
  pipeFds?: SharedArrayBuffer;
}

/** proc_exit: thrown out of the Wasm call that exits; the loader turns it into the exit status. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'WasiExit';
  }
}

interface OpenFile {
  kind: 'file';
  hostFd: number;
  /** The host path it was opened by (utimes on a descriptor). */
  host?: string;
  position: number;
  append: boolean;
  /** The fdflags last set (NONBLOCK, SYNC…: kept and reported; only APPEND changes what a write does). */
  flags?: number;
}
interface OpenDir {
  kind: 'dir';
  host: string;
  /** Set on preopens: the name wasi-libc matches absolute and relative paths against. */
  preopen?: string;
}
interface OpenPipe extends PipeEnd {
  kind: 'pipe';
  /** The fdflags last set (NONBLOCK: a read or write that would wait fails with EAGAIN). */
  flags?: number;
}
type Entry = OpenFile | OpenDir | OpenPipe;

/** What one of a table's descriptors is, for a host that hands it to another process (vms/posix/host/spawn.ts). */
export type FdTarget = { kind: 'stdio'; fd: 0 | 1 | 2 } | { kind: 'file'; hostFd: number } | { kind: 'pipe'; ring: number; end: PipeEnd['end'] };

/** Longest wait for one pipe of several (poll_oneoff) before it looks at them all again. */
const POLL_SLICE_MS = 10;

/** A thread's descriptors: its own, then the process's pipes (pipe-fds.ts), which its own numbers never reach. */
class Fds {
  readonly own = new Map<number, Entry>();

  constructor(private readonly pipes: PipeFds | undefined) {}

  get(fd: number): Entry | undefined {
    return this.own.get(fd) ?? this.pipes?.get(fd);
  }

  has(fd: number): boolean {
    return this.get(fd) !== undefined;
  }

  set(fd: number, e: Entry): void {
    this.own.set(fd, e);
  }

  /** Whether `fd` is one of the process's pipes (every thread's: closed by the table). */
  shared(fd: number): boolean {
    return !this.own.has(fd) && this.pipes?.get(fd) !== undefined;
  }

  /** Forgets `fd` and lets what it held go (a file's host descriptor is the caller's to close). */
  drop(fd: number, memory: WebAssembly.Memory | undefined): void {
    const f = this.own.get(fd);
    if (!f) {
      this.pipes?.close(fd, memory!);
      return;
    }
    this.own.delete(fd);
    if (f.kind === 'pipe') closeEnd(memory!, f);
  }
}

/** A WASI instance: `imports` is the wasi_snapshot_preview1 import object. */
export class Wasi {
  readonly imports: Record<string, (...args: never[]) => number | void>;
  private readonly fds: Fds;
  private readonly pipes?: PipeFds;
  private nextFd: number;
  private memory?: WebAssembly.Memory;
  private readonly encoder = new TextEncoder();

  constructor(private readonly opts: WasiOptions) {
    this.pipes = opts.pipeFds ? new PipeFds(opts.pipeFds) : undefined;
    this.fds = new Fds(this.pipes);
    let fd = 3;
    for (const [name, host] of Object.entries(opts.preopens ?? {})) this.fds.set(fd++, { kind: 'dir', host, preopen: name });
    this.nextFd = fd;
    this.imports = this.makeImports() as unknown as Record<string, (...args: never[]) => number | void>;
  }

  /** The memory the calls read and write (before the first call). */
  bind(memory: WebAssembly.Memory): this {
    this.memory = memory;
    return this;
  }

  /**
   * Closes every host file this instance opened, as a process's end would
   * (a recycled fork child's carrier outlives its program).
   */
  closeAll(): void {
    for (const [fd, f] of this.fds.own) {
      if (f.kind === 'dir') continue;
      this.fds.drop(fd, this.memory);
      if (f.kind === 'file') try { this.fsys().closeSync(f.hostFd); } catch { /* closed already */ }
    }
  }

  /** The next descriptor of this thread's own: above the preopens, never in the process's pipe range. */
  private allocFd(): number {
    if (PipeFds.covers(this.nextFd)) this.nextFd = PIPE_FD_BASE + 256;
    return this.nextFd++;
  }

  /** Two new descriptors for the ends of the pipe at `ring`, which the caller has claimed for them: [read, write]. */
  openPipe(ring: number): [number, number] {
    const shared = this.pipes?.openPair(ring);
    if (shared) return shared;
    // the process's table is full (or there is none): this thread's own
    const own: [number, number] = [this.allocFd(), this.allocFd()];
    this.fds.set(own[0], { kind: 'pipe', ring, end: READ_END });
    this.fds.set(own[1], { kind: 'pipe', ring, end: WRITE_END });
    return own;
  }

  /** The process's open pipe descriptors (its table's; none without one), as a fork lists them for its child. */
  listPipes(): ListedPipeEnd[] {
    return this.pipes?.list() ?? [];
  }

  /** A fork child's inherited descriptor `fd` on end `p` of its local ring (held for it): false when the number is taken or there is no table. */
  inheritPipe(fd: number, p: PipeEnd, flags: number): boolean {
    return this.pipes?.openAt(fd, p, flags) ?? false;
  }

  /** What descriptor `fd` is (undefined: not open, or a directory); a pipe's end is held once more for the caller. */
  holdTarget(fd: number): FdTarget | undefined {
    const f = this.fds.get(fd);
    if (!f) return fd === 0 || fd === 1 || fd === 2 ? { kind: 'stdio', fd } : undefined;
    if (f.kind === 'dir') return undefined;
    if (f.kind === 'file') return { kind: 'file', hostFd: f.hostFd };
    holdEnd(this.memory!, f);
    return { kind: 'pipe', ring: f.ring, end: f.end };
  }

  private blocking<T>(f: () => T): T {
    return this.opts.blocking ? this.opts.blocking(f) : f();
  }

  private pipeError(code: string): Error {
    return Object.assign(new Error(code), { code });
  }

  /**
   * Writes all of `data` to a pipe's write end, waiting for room as a blocking write does; EPIPE once no reader is
   * left. An inherited end's ring in a fork child (bridged) is only a buffer on the way to the parent's pipe: the write
   * returns once the bridge has taken its bytes, so a child that exits right after has nothing left on the way.
   */
  private writePipe(p: OpenPipe, data: Uint8Array): number {
    const memory = this.memory!;
    if (p.end !== WRITE_END) throw this.pipeError('EBADF');
    const nonblocking = ((p.flags ?? 0) & FDFLAGS_NONBLOCK) !== 0;
    let done = 0;
    while (done < data.length) {
      const seq = ringSeq(memory, p.ring);
      if (otherEnds(memory, p) === 0) {
        if (done) return done;
        throw this.pipeError('EPIPE');
      }
      const n = writeSome(memory, p.ring, data.subarray(done));
      done += n;
      if (n) continue;
      if (nonblocking) {
        if (done) return done;
        throw this.pipeError('EAGAIN');
      }
      this.blocking(() => waitChange(memory, p.ring, seq, 1000));
    }
    if (!nonblocking && bridged(memory, p.ring)) {
      const written = ringHead(memory, p.ring);
      for (;;) {
        const seq = ringSeq(memory, p.ring);
        if (((ringTail(memory, p.ring) - written) | 0) >= 0 || otherEnds(memory, p) === 0) break;
        this.blocking(() => waitChange(memory, p.ring, seq, 1000));
      }
    }
    return done;
  }

  /**
   * Reads what is waiting in a pipe, waiting for the first byte; 0 at end of file (no writer left). A reader that
   * waits says so on the ring (wantBytes): an inherited end's bridge fetches bytes only for a reader that waits.
   */
  private readPipe(p: OpenPipe, into: Uint8Array): number {
    const memory = this.memory!;
    if (p.end !== READ_END) throw this.pipeError('EBADF');
    let waiting = false;
    try {
      for (;;) {
        const seq = ringSeq(memory, p.ring);
        const n = readSome(memory, p.ring, into);
        if (n || otherEnds(memory, p) === 0) return n;
        if ((p.flags ?? 0) & FDFLAGS_NONBLOCK) throw this.pipeError('EAGAIN');
        if (!waiting) {
          // the start moves SEQ: look again before the wait
          waiting = true;
          wantBytes(memory, p.ring, 1);
          continue;
        }
        this.blocking(() => waitChange(memory, p.ring, seq, 1000));
      }
    } finally {
      if (waiting) wantBytes(memory, p.ring, -1);
    }
  }

  private get view(): DataView { return new DataView(this.memory!.buffer); }
  private get bytes(): Uint8Array { return new Uint8Array(this.memory!.buffer); }

  private str(ptr: number, len: number): string {
    // TextDecoder refuses views of shared memory: copy first.
    return new TextDecoder().decode(this.bytes.slice(ptr, ptr + len));
  }

  private iovecs(iovs: number, n: number): Array<[number, number]> {
    const v = this.view;
    const out: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) out.push([v.getUint32(iovs + 8 * i, true), v.getUint32(iovs + 8 * i + 4, true)]);
    return out;
  }

  private fsys(): WasiFs {
    if (!this.opts.fs) throw Object.assign(new Error('no file system'), { code: 'ENOSYS' });
    return this.opts.fs;
  }

  private resolve(dirFd: number, ptr: number, len: number): string {
    const dir = this.fds.get(dirFd);
    if (!dir || dir.kind !== 'dir') throw Object.assign(new Error('not a directory'), { code: dir ? 'ENOTDIR' : 'EBADF' });
    // An empty path names nothing, as on Linux (openat(fd, "") without AT_EMPTY_PATH): wasi-libc passes "" through
    // unresolved (vms/lua/shim/empty-path.c), and every path call comes here before it touches the file system.
    if (len === 0) throw Object.assign(new Error('empty path'), { code: 'ENOENT' });
    const rel = this.str(ptr, len);
    // The guest may not leave its preopened directory.
    const parts: string[] = [];
    for (const p of rel.split('/')) {
      if (p === '' || p === '.') continue;
      if (p === '..') {
        if (!parts.length) throw Object.assign(new Error('outside the preopened directory'), { code: 'ENOTCAPABLE' });
        parts.pop();
      } else parts.push(p);
    }
    const join = this.opts.joinPath ?? ((d: string, r: string) => (r ? `${d.replace(/\/$/, '')}/${r}` : d));
    return join(dir.host, parts.join('/'));
  }

  private static errno(e: unknown): number {
    return wasiErrno((e as { code?: string }).code);
  }

  private guard(f: () => number): number {
    try {
      return f();
    } catch (e) {
      if (e instanceof WasiExit) throw e;
      return Wasi.errno(e);
    }
  }

  private write(fd: number, data: Uint8Array): number {
    const f = this.fds.get(fd);
    if (f?.kind === 'pipe') return this.writePipe(f, data);
    if (fd === 1) { this.opts.stdout(data); return data.length; }
    if (fd === 2) { this.opts.stderr(data); return data.length; }
    if (!f) throw Object.assign(new Error('bad fd'), { code: 'EBADF' });
    if (f.kind !== 'file') throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const fs = this.fsys();
    if (f.append) f.position = fs.fstatSync(f.hostFd).size;
    let done = 0;
    while (done < data.length) done += fs.writeSync(f.hostFd, data, done, data.length - done, f.position + done);
    f.position += done;
    return done;
  }

  private read(fd: number, into: Uint8Array): number {
    const f = this.fds.get(fd);
    if (f?.kind === 'pipe') return this.readPipe(f, into);
    if (fd === 0) return this.opts.stdin ? this.opts.stdin(into) : 0;
    if (!f || fd < 3) throw Object.assign(new Error('bad fd'), { code: 'EBADF' });
    if (f.kind !== 'file') throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const n = this.fsys().readSync(f.hostFd, into, 0, into.length, f.position);
    f.position += n;
    return n;
  }

  private entry(fd: number): Entry {
    const f = this.fds.get(fd);
    if (!f) throw Object.assign(new Error('bad fd'), { code: 'EBADF' });
    return f;
  }

  /** A file system call the platform may lack (ENOSYS then). */
  private need<K extends keyof WasiFs>(name: K): NonNullable<WasiFs[K]> {
    const f = this.fsys()[name];
    if (!f) throw Object.assign(new Error(`no ${String(name)}`), { code: 'ENOSYS' });
    return (f as (...a: unknown[]) => unknown).bind(this.fsys()) as NonNullable<WasiFs[K]>;
  }

  private hostPathOf(f: OpenFile): string {
    if (!f.host) throw Object.assign(new Error('no path'), { code: 'ENOSYS' });
    return f.host;
  }

  private setTimes(host: string, atim: bigint, mtim: bigint, flags: number): number {
    const fs = this.fsys();
    const st = fs.statSync(host, { bigint: true });
    const now = Date.now() / 1000;
    // node:fs takes seconds as a double and truncates them, to the microsecond (Node 20, 22) or to the nanosecond
    // (Node 24): a time of whole microseconds would come back early (4.005006 is 4.00500599… in binary); half a
    // nanosecond more keeps it under either truncation.
    const seconds = (ns: bigint) => Number(ns / 1000n) / 1e6 + 5e-10;
    const old = (ns: bigint | undefined, ms: number | bigint | undefined) => (ns !== undefined ? seconds(ns) : Number(ms ?? 0) / 1e3);
    const a = flags & FSTFLAGS_ATIM_NOW ? now : flags & FSTFLAGS_ATIM ? seconds(atim) : old(st.atimeNs, st.atimeMs);
    const m = flags & FSTFLAGS_MTIM_NOW ? now : flags & FSTFLAGS_MTIM ? seconds(mtim) : old(st.mtimeNs, st.mtimeMs);
    this.need('utimesSync')(host, a, m);
    return Errno.SUCCESS;
  }

  private static filetype(st: WasiStat): number {
    if (st.isSymbolicLink?.()) return FILETYPE_SYMBOLIC_LINK;
    if (st.isDirectory()) return FILETYPE_DIRECTORY;
    if (st.isCharacterDevice?.()) return FILETYPE_CHARACTER_DEVICE;
    return st.isFile?.() ?? true ? FILETYPE_REGULAR_FILE : 0;
  }

  private putFilestat(out: number, st: WasiStat): void {
    const v = this.view;
    const ns = (exact: bigint | undefined, ms: number | bigint | undefined) =>
      (exact !== undefined ? exact : typeof ms === 'bigint' ? ms * 1000000n : BigInt(Math.round((ms ?? 0) * 1e6)));
    this.bytes.fill(0, out, out + 64);
    v.setBigUint64(out, BigInt(st.dev ?? 0), true);
    v.setBigUint64(out + 8, BigInt(st.ino ?? 0), true);
    v.setUint8(out + 16, Wasi.filetype(st));
    v.setBigUint64(out + 24, BigInt(st.nlink ?? 1), true);
    v.setBigUint64(out + 32, BigInt(st.size ?? 0), true);
    v.setBigUint64(out + 40, ns(st.atimeNs, st.atimeMs), true);
    v.setBigUint64(out + 48, ns(st.mtimeNs, st.mtimeMs), true);
    v.setBigUint64(out + 56, ns(st.ctimeNs, st.ctimeMs), true);
  }

  private sleep(ms: number): void {
    if (this.opts.sleepMs) { this.opts.sleepMs(ms); return; }
    if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  }

  private makeImports() {
    const self = this;
    const putStrings = (list: string[], ptrs: number, buf: number): number => {
      const v = self.view;
      const b = self.bytes;
      let p = buf;
      list.forEach((s, i) => {
        const enc = self.encoder.encode(s);
        v.setUint32(ptrs + 4 * i, p, true);
        b.set(enc, p);
        b[p + enc.length] = 0;
        p += enc.length + 1;
      });
      return Errno.SUCCESS;
    };
    const sizes = (list: string[], countPtr: number, sizePtr: number): number => {
      self.view.setUint32(countPtr, list.length, true);
      self.view.setUint32(sizePtr, list.reduce((n, s) => n + self.encoder.encode(s).length + 1, 0), true);
      return Errno.SUCCESS;
    };
    const environ = () => Object.entries(self.opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    // performance.now() counts from this thread's own start: add the origin so every thread reads one clock.
    const origin = performance.timeOrigin ?? Date.now() - performance.now();
    const realtimeNs = () => BigInt(Math.round((origin + performance.now()) * 1e6));
    const monotonicNs = self.opts.monotonicNs ?? realtimeNs;
    /** Reads into the iovecs in order until one is not filled; the count goes to `nread`. */
    const scatter = (iovs: number, n: number, nread: number, read: (into: Uint8Array) => number): number => {
      let total = 0;
      for (const [p, l] of self.iovecs(iovs, n)) {
        if (!l) continue;
        const tmp = new Uint8Array(l);
        const got = read(tmp);
        self.bytes.set(tmp.subarray(0, got), p);
        total += got;
        if (got < l) break;
      }
      self.view.setUint32(nread, total, true);
      return Errno.SUCCESS;
    };
    const sync = (fd: number): number => self.guard(() => {
      const f = self.entry(fd);
      if (f.kind === 'file') self.need('fsyncSync')(f.hostFd);
      return Errno.SUCCESS;
    });
    return {
      args_sizes_get: (c: number, s: number) => sizes(self.opts.args, c, s),
      args_get: (ptrs: number, buf: number) => putStrings(self.opts.args, ptrs, buf),
      environ_sizes_get: (c: number, s: number) => sizes(environ(), c, s),
      environ_get: (ptrs: number, buf: number) => putStrings(environ(), ptrs, buf),
      clock_time_get(id: number, _precision: bigint, out: number): number {
        let t: bigint;
        if (id === 0) t = realtimeNs();
        else if (id === 1) t = monotonicNs();
        else if (id === 2 || id === 3) t = self.opts.cpuTimeNs ? self.opts.cpuTimeNs() : monotonicNs();
        else return Errno.INVAL;
        self.view.setBigUint64(out, t, true);
        return Errno.SUCCESS;
      },
      // One write for all the iovecs, as writev makes: musl's stdio hands its buffer and the new bytes as two
      // iovecs, and two writes would let another process's line land between them on a shared output.
      fd_write(fd: number, iovs: number, n: number, written: number): number {
        return self.guard(() => {
          const parts = self.iovecs(iovs, n).filter(([, l]) => l > 0);
          const data = new Uint8Array(parts.reduce((sum, [, l]) => sum + l, 0));
          const memory = self.bytes;
          let at = 0;
          for (const [p, l] of parts) { data.set(memory.subarray(p, p + l), at); at += l; }
          const total = data.length ? self.write(fd, data) : 0;
          self.view.setUint32(written, total, true);
          return Errno.SUCCESS;
        });
      },
      fd_read(fd: number, iovs: number, n: number, nread: number): number {
        return self.guard(() => scatter(iovs, n, nread, (tmp) => self.read(fd, tmp)));
      },
      fd_seek(fd: number, offset: bigint, whence: number, out: number): number {
        return self.guard(() => {
          const f = self.fds.get(fd);
          if (f?.kind === 'pipe') return Errno.SPIPE;
          if (fd < 3 || !f) return fd < 3 ? Errno.SPIPE : Errno.BADF;
          if (f.kind !== 'file') return Errno.ISDIR;
          const base = whence === 0 ? 0 : whence === 1 ? f.position : whence === 2 ? self.fsys().fstatSync(f.hostFd).size : NaN;
          const pos = base + Number(offset);
          if (!(pos >= 0)) return Errno.INVAL;
          f.position = pos;
          self.view.setBigUint64(out, BigInt(pos), true);
          return Errno.SUCCESS;
        });
      },
      fd_close(fd: number): number {
        return self.guard(() => {
          const f = self.fds.get(fd);
          if (!f || f.kind === 'dir' && f.preopen !== undefined) return fd < 3 ? Errno.SUCCESS : Errno.BADF;
          self.fds.drop(fd, self.memory);
          if (f.kind === 'file') self.fsys().closeSync(f.hostFd);
          return Errno.SUCCESS;
        });
      },
      fd_fdstat_get(fd: number, out: number): number {
        const v = self.view;
        self.bytes.fill(0, out, out + 24);
        if (fd < 3) {
          const tty = self.opts.isatty?.(fd) ?? false;
          v.setUint8(out, tty ? FILETYPE_CHARACTER_DEVICE : 0);
          v.setBigUint64(out + 8, tty ? RIGHTS_TTY : RIGHTS_ALL, true);
          return Errno.SUCCESS;
        }
        const f = self.fds.get(fd);
        if (!f) return Errno.BADF;
        // a pipe: a stream of unknown type, as stdio that is not a terminal
        v.setUint8(out, f.kind === 'dir' ? FILETYPE_DIRECTORY : f.kind === 'pipe' ? 0 : FILETYPE_REGULAR_FILE);
        if (f.kind === 'file') v.setUint16(out + 2, (f.flags ?? 0) | (f.append ? FDFLAGS_APPEND : 0), true);
        if (f.kind === 'pipe') v.setUint16(out + 2, f.flags ?? 0, true);
        v.setBigUint64(out + 8, RIGHTS_ALL, true);
        v.setBigUint64(out + 16, RIGHTS_ALL, true);
        return Errno.SUCCESS;
      },
      fd_fdstat_set_flags(fd: number, flags: number): number {
        const f = self.fds.get(fd);
        if (f?.kind === 'pipe') {
          f.flags = flags & FDFLAGS_NONBLOCK;
          return Errno.SUCCESS;
        }
        if (!f || f.kind !== 'file') return Errno.BADF;
        f.append = (flags & FDFLAGS_APPEND) !== 0;
        f.flags = flags;
        return Errno.SUCCESS;
      },
      fd_prestat_get(fd: number, out: number): number {
        const f = self.fds.get(fd);
        if (!f || f.kind !== 'dir' || f.preopen === undefined) return Errno.BADF;
        self.view.setUint32(out, 0, true);
        self.view.setUint32(out + 4, self.encoder.encode(f.preopen).length, true);
        return Errno.SUCCESS;
      },
      fd_prestat_dir_name(fd: number, ptr: number, len: number): number {
        const f = self.fds.get(fd);
        if (!f || f.kind !== 'dir' || f.preopen === undefined) return Errno.BADF;
        self.bytes.set(self.encoder.encode(f.preopen).subarray(0, len), ptr);
        return Errno.SUCCESS;
      },
      fd_renumber(from: number, to: number): number {
        const f = self.fds.get(from);
        if (!f || from < 3 || to < 3) return Errno.BADF;
        // the process's pipes keep their numbers: every thread knows them by those
        if (self.fds.shared(from) || PipeFds.covers(to)) return Errno.NOTSUP;
        const old = self.fds.get(to);
        if (old?.kind === 'file') self.fsys().closeSync(old.hostFd);
        if (old) self.fds.drop(to, self.memory);
        self.fds.set(to, f);
        self.fds.own.delete(from);
        return Errno.SUCCESS;
      },
      path_open(dirFd: number, _dirflags: number, ptr: number, len: number, oflags: number,
        rightsBase: bigint, _rightsInh: bigint, fdflags: number, out: number): number {
        return self.guard(() => {
          const host = self.resolve(dirFd, ptr, len);
          const fs = self.fsys();
          const c = fs.constants;
          const read = (rightsBase & RIGHTS_FD_READ) !== 0n;
          const write = (rightsBase & RIGHTS_FD_WRITE) !== 0n || (oflags & (OFLAGS_CREAT | OFLAGS_TRUNC)) !== 0;
          let isDir = false;
          try { isDir = fs.statSync(host).isDirectory(); } catch { /* created below, or ENOENT from open */ }
          if (isDir || oflags & OFLAGS_DIRECTORY) {
            if (!isDir) fs.statSync(host); // ENOENT, or a file where a directory was asked for
            if (!isDir) return Errno.NOTDIR;
            if (write) return Errno.ISDIR;
            const fd = self.allocFd();
            self.fds.set(fd, { kind: 'dir', host });
            self.view.setUint32(out, fd, true);
            return Errno.SUCCESS;
          }
          let flags = read && write ? c.O_RDWR : write ? c.O_WRONLY : c.O_RDONLY;
          if (oflags & OFLAGS_CREAT) flags |= c.O_CREAT;
          if (oflags & OFLAGS_EXCL) flags |= c.O_EXCL;
          if (oflags & OFLAGS_TRUNC) flags |= c.O_TRUNC;
          const hostFd = fs.openSync(host, flags, 0o666);
          const fd = self.allocFd();
          self.fds.set(fd, { kind: 'file', hostFd, host, position: 0, append: (fdflags & FDFLAGS_APPEND) !== 0, flags: fdflags });
          self.view.setUint32(out, fd, true);
          return Errno.SUCCESS;
        });
      },
      path_filestat_get(dirFd: number, flags: number, ptr: number, len: number, out: number): number {
        return self.guard(() => {
          const host = self.resolve(dirFd, ptr, len);
          const fs = self.fsys();
          const st = flags & LOOKUP_SYMLINK_FOLLOW || !fs.lstatSync ? fs.statSync(host, { bigint: true }) : fs.lstatSync(host, { bigint: true });
          self.putFilestat(out, st);
          return Errno.SUCCESS;
        });
      },
      fd_filestat_get(fd: number, out: number): number {
        return self.guard(() => {
          if (fd < 3) {
            // stdio: a character device when a terminal, else a stream of unknown type (a pipe, a file)
            self.bytes.fill(0, out, out + 64);
            self.view.setUint8(out + 16, self.opts.isatty?.(fd) ? FILETYPE_CHARACTER_DEVICE : 0);
            self.view.setBigUint64(out + 24, 1n, true);
            return Errno.SUCCESS;
          }
          const f = self.entry(fd);
          if (f.kind === 'pipe') {
            self.bytes.fill(0, out, out + 64);
            self.view.setBigUint64(out + 24, 1n, true);
            return Errno.SUCCESS;
          }
          const fs = self.fsys();
          self.putFilestat(out, f.kind === 'file' ? (fs.fstatSync as (fd: number, o: object) => WasiStat)(f.hostFd, { bigint: true }) : fs.statSync(f.host, { bigint: true }));
          return Errno.SUCCESS;
        });
      },
      fd_filestat_set_size(fd: number, size: bigint): number {
        return self.guard(() => {
          const f = self.entry(fd);
          if (f.kind === 'pipe') return Errno.INVAL;
          if (f.kind !== 'file') return Errno.ISDIR;
          self.need('ftruncateSync')(f.hostFd, Number(size));
          return Errno.SUCCESS;
        });
      },
      fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, fstFlags: number): number {
        return self.guard(() => {
          const f = self.entry(fd);
          if (f.kind === 'pipe') return Errno.NOTSUP;
          return self.setTimes(f.kind === 'file' ? self.hostPathOf(f) : f.host, atim, mtim, fstFlags);
        });
      },
      path_filestat_set_times(dirFd: number, _flags: number, ptr: number, len: number, atim: bigint, mtim: bigint, fstFlags: number): number {
        return self.guard(() => self.setTimes(self.resolve(dirFd, ptr, len), atim, mtim, fstFlags));
      },
      fd_pread(fd: number, iovs: number, n: number, offset: bigint, nread: number): number {
        return self.guard(() => {
          const f = self.entry(fd);
          if (f.kind === 'pipe') return Errno.SPIPE;
          if (f.kind !== 'file') return Errno.ISDIR;
          let at = Number(offset);
          return scatter(iovs, n, nread, (tmp) => { const got = self.fsys().readSync(f.hostFd, tmp, 0, tmp.length, at); at += got; return got; });
        });
      },
      fd_pwrite(fd: number, iovs: number, n: number, offset: bigint, written: number): number {
        return self.guard(() => {
          const f = self.entry(fd);
          if (f.kind === 'pipe') return Errno.SPIPE;
          if (f.kind !== 'file') return Errno.ISDIR;
          let total = 0;
          for (const [p, l] of self.iovecs(iovs, n)) {
            const data = self.bytes.slice(p, p + l);
            let done = 0;
            while (done < l) done += self.fsys().writeSync(f.hostFd, data, done, l - done, Number(offset) + total + done);
            total += l;
          }
          self.view.setUint32(written, total, true);
          return Errno.SUCCESS;
        });
      },
      fd_tell(fd: number, out: number): number {
        const f = self.fds.get(fd);
        if (fd < 3 || f?.kind === 'pipe') return Errno.SPIPE;
        if (!f) return Errno.BADF;
        if (f.kind !== 'file') return Errno.ISDIR;
        self.view.setBigUint64(out, BigInt(f.position), true);
        return Errno.SUCCESS;
      },
      fd_sync: sync,
      fd_datasync: sync,
      fd_advise(fd: number): number {
        return self.fds.has(fd) || fd < 3 ? Errno.SUCCESS : Errno.BADF;
      },
      fd_readdir(fd: number, buf: number, bufLen: number, cookie: bigint, bufused: number): number {
        return self.guard(() => {
          const f = self.entry(fd);
          if (f.kind !== 'dir') return Errno.NOTDIR;
          const fs = self.fsys();
          const names = ['.', '..', ...self.need('readdirSync')(f.host)];
          const out: number[] = [];
          for (let i = Number(cookie); i < names.length && out.length < bufLen; i++) {
            const name = self.encoder.encode(names[i]);
            let st: WasiStat | undefined;
            try { st = (fs.lstatSync ?? fs.statSync)(`${f.host.replace(/\/$/, '')}/${names[i]}`, { bigint: true }); } catch { /* vanished meanwhile */ }
            const head = new DataView(new ArrayBuffer(24));
            head.setBigUint64(0, BigInt(i + 1), true);
            head.setBigUint64(8, BigInt(st?.ino ?? 0), true);
            head.setUint32(16, name.length, true);
            head.setUint8(20, st ? Wasi.filetype(st) : 0);
            out.push(...new Uint8Array(head.buffer), ...name);
          }
          // A full buffer tells wasi-libc to call again from the last whole entry's cookie.
          const n = Math.min(out.length, bufLen);
          self.bytes.set(out.slice(0, n), buf);
          self.view.setUint32(bufused, n, true);
          return Errno.SUCCESS;
        });
      },
      path_create_directory(dirFd: number, ptr: number, len: number): number {
        return self.guard(() => { self.need('mkdirSync')(self.resolve(dirFd, ptr, len), 0o777); return Errno.SUCCESS; });
      },
      path_readlink(dirFd: number, ptr: number, len: number, buf: number, bufLen: number, bufused: number): number {
        return self.guard(() => {
          const target = self.encoder.encode(self.need('readlinkSync')(self.resolve(dirFd, ptr, len)));
          const n = Math.min(target.length, bufLen);
          self.bytes.set(target.subarray(0, n), buf);
          self.view.setUint32(bufused, n, true);
          return Errno.SUCCESS;
        });
      },
      path_symlink(oldPtr: number, oldLen: number, dirFd: number, ptr: number, len: number): number {
        return self.guard(() => { self.need('symlinkSync')(self.str(oldPtr, oldLen), self.resolve(dirFd, ptr, len)); return Errno.SUCCESS; });
      },
      path_link(oldFd: number, _flags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number): number {
        return self.guard(() => {
          self.need('linkSync')(self.resolve(oldFd, oldPtr, oldLen), self.resolve(newFd, newPtr, newLen));
          return Errno.SUCCESS;
        });
      },
      clock_res_get(id: number, out: number): number {
        if (id < 0 || id > 3) return Errno.INVAL;
        self.view.setBigUint64(out, 1000n, true);
        return Errno.SUCCESS;
      },
      poll_oneoff(inPtr: number, outPtr: number, n: number, neventsPtr: number): number {
        // A descriptor is ready but for a pipe's end, which is ready when a read or write would not wait; a clock
        // subscription is a deadline, the earliest winning (an absolute one is on that clock, as CPython's
        // clock_nanosleep(TIMER_ABSTIME) gives it, not a duration). With nothing ready the call waits for a pipe's
        // change or the deadline: on one pipe's ring, or in slices while it watches several.
        const v = self.view;
        const memory = self.memory!;
        let deadlineNs: bigint | undefined;
        let clockSub = -1;
        const pipes: Array<{ sub: number; p: OpenPipe }> = [];
        const ready: number[] = [];
        for (let i = 0; i < n; i++) {
          const s = inPtr + i * 48;
          if (v.getUint8(s + 8) !== EVENTTYPE_CLOCK) {
            const f = self.fds.get(v.getUint32(s + 16, true));
            if (f?.kind === 'pipe') pipes.push({ sub: s, p: f });
            else ready.push(s);
            continue;
          }
          const id = v.getUint32(s + 16, true);
          let ns = v.getBigUint64(s + 24, true);
          if (v.getUint16(s + 40, true) & SUBCLOCKFLAGS_ABSTIME) ns -= id === 0 ? realtimeNs() : monotonicNs();
          if (ns < 0n) ns = 0n;
          const at = monotonicNs() + ns;
          if (deadlineNs === undefined || at < deadlineNs) { deadlineNs = at; clockSub = s; }
        }
        let events = 0;
        const e = (sub: number, hangup = false) => {
          const o = outPtr + events++ * 32;
          self.bytes.fill(0, o, o + 32);
          v.setBigUint64(o, v.getBigUint64(sub, true), true);
          v.setUint8(o + 10, v.getUint8(sub + 8));
          if (hangup) v.setUint16(o + 24, EVENTRWFLAGS_HANGUP, true);
        };
        const pipeReady = ({ sub, p }: { sub: number; p: OpenPipe }) =>
          (v.getUint8(sub + 8) === EVENTTYPE_FD_READ ? readable(memory, p.ring) : writable(memory, p.ring));
        for (const s of ready) e(s);
        // a poll that waits to read a pipe is a reader that waits (readPipe): from its first wait to its return
        const wanting: number[] = [];
        try {
          for (;;) {
            for (const x of pipes) if (pipeReady(x)) e(x.sub, otherEnds(memory, x.p) === 0);
            if (events) break;
            const leftMs = deadlineNs === undefined ? Infinity : Number(deadlineNs - monotonicNs()) / 1e6;
            if (leftMs <= 0 || !pipes.length) {
              if (!pipes.length && leftMs > 0 && leftMs !== Infinity) self.sleep(leftMs);
              if (clockSub >= 0) e(clockSub);
              break;
            }
            if (!wanting.length) {
              for (const { sub, p } of pipes) {
                if (v.getUint8(sub + 8) !== EVENTTYPE_FD_READ) continue;
                wantBytes(memory, p.ring, 1);
                wanting.push(p.ring);
              }
              // the starts moved SEQ: look again before the wait
              if (wanting.length) continue;
            }
            const seq = ringSeq(memory, pipes[0].p.ring);
            if (pipeReady(pipes[0])) continue;
            const slice = Math.min(leftMs, pipes.length > 1 ? POLL_SLICE_MS : 1000);
            self.blocking(() => waitChange(memory, pipes[0].p.ring, seq, slice));
          }
        } finally {
          for (const ring of wanting) wantBytes(memory, ring, -1);
        }
        self.view.setUint32(neventsPtr, events, true);
        return Errno.SUCCESS;
      },
      sched_yield(): number {
        return Errno.SUCCESS;
      },
      // Linked in by CPython's posix and socket modules; no file system here preallocates, and there are no sockets.
      fd_allocate: () => Errno.NOTSUP,
      sock_accept: () => Errno.NOSYS,
      sock_recv: () => Errno.NOSYS,
      sock_send: () => Errno.NOSYS,
      sock_shutdown: () => Errno.NOSYS,
      path_unlink_file(dirFd: number, ptr: number, len: number): number {
        return self.guard(() => {
          const host = self.resolve(dirFd, ptr, len);
          // the name itself, not what a symlink names (a dangling link is removed too)
          const fs = self.fsys();
          if ((fs.lstatSync ?? fs.statSync).call(fs, host).isDirectory()) return Errno.ISDIR;
          self.fsys().unlinkSync(host);
          return Errno.SUCCESS;
        });
      },
      path_remove_directory(dirFd: number, ptr: number, len: number): number {
        return self.guard(() => {
          const host = self.resolve(dirFd, ptr, len);
          self.fsys().rmdirSync(host);
          return Errno.SUCCESS;
        });
      },
      path_rename(fd1: number, p1: number, l1: number, fd2: number, p2: number, l2: number): number {
        return self.guard(() => {
          const from = self.resolve(fd1, p1, l1);
          const to = self.resolve(fd2, p2, l2);
          self.fsys().renameSync(from, to);
          return Errno.SUCCESS;
        });
      },
      proc_exit(code: number): never {
        throw new WasiExit(code);
      },
      random_get(ptr: number, len: number): number {
        // getRandomValues refuses views of shared memory, and takes at most 64 KiB a call.
        for (let done = 0; done < len; done += 65536) {
          const tmp = new Uint8Array(Math.min(65536, len - done));
          crypto.getRandomValues(tmp);
          self.bytes.set(tmp, ptr + done);
        }
        return Errno.SUCCESS;
      },
    };
  }
}
