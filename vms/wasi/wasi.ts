// WASI preview1 over a shared WebAssembly.Memory: the calls wasi-libc makes for
// Lua (the import list of build/lua.wasm, docs/LUA.md). node:wasi does not take
// an imported shared memory and browsers have no WASI, so this is the one
// implementation; the platform comes in as parameters (output sinks, stdin,
// clocks, a file system with node:fs's synchronous shape).
//
// One Wasi per thread instance: its descriptor table is that thread's own
// (stdio and the preopens are the same everywhere; a file opened on one
// thread is not visible on another).

/** WASI errno values (preview1). */
export const Errno = {
  SUCCESS: 0, ACCES: 2, BADF: 8, EXIST: 20, INVAL: 28, IO: 29, ISDIR: 31, NOENT: 44, NOSYS: 52,
  NOTDIR: 54, NOTEMPTY: 55, PERM: 63, SPIPE: 70, NOTCAPABLE: 76, FAULT: 21, NOSPC: 51, NAMETOOLONG: 37,
} as const;

const NODE_ERRNO: Record<string, number> = {
  EACCES: Errno.ACCES, EBADF: Errno.BADF, EEXIST: Errno.EXIST, EINVAL: Errno.INVAL, EIO: Errno.IO,
  EISDIR: Errno.ISDIR, ENOENT: Errno.NOENT, ENOTDIR: Errno.NOTDIR, ENOTEMPTY: Errno.NOTEMPTY, EPERM: Errno.PERM,
  ESPIPE: Errno.SPIPE, ENOSPC: Errno.NOSPC, ENAMETOOLONG: Errno.NAMETOOLONG, EXDEV: 75, EBUSY: 10, EMFILE: 33,
};

const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;
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
  statSync(path: string): WasiStat;
  unlinkSync(path: string): void;
  renameSync(from: string, to: string): void;
  rmdirSync(path: string): void;
  constants: { O_RDONLY: number; O_WRONLY: number; O_RDWR: number; O_CREAT: number; O_EXCL: number; O_TRUNC: number; O_APPEND: number };
}

/** What path_filestat_get reports (node:fs's Stats has every field). */
export interface WasiStat {
  isDirectory(): boolean;
  isFile?(): boolean;
  isCharacterDevice?(): boolean;
  size?: number;
  dev?: number;
  ino?: number;
  nlink?: number;
  atimeMs?: number;
  mtimeMs?: number;
  ctimeMs?: number;
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
  /** Host path join: '/' unless the platform needs another. */
  joinPath?(dir: string, rel: string): string;
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
  position: number;
  append: boolean;
}
interface OpenDir {
  kind: 'dir';
  host: string;
  /** Set on preopens: the name wasi-libc matches absolute and relative paths against. */
  preopen?: string;
}
type Entry = OpenFile | OpenDir;

/** A WASI instance: `imports` is the wasi_snapshot_preview1 import object. */
export class Wasi {
  readonly imports: Record<string, (...args: never[]) => number | void>;
  private readonly fds = new Map<number, Entry>();
  private nextFd: number;
  private memory?: WebAssembly.Memory;
  private readonly encoder = new TextEncoder();

  constructor(private readonly opts: WasiOptions) {
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
    const code = (e as { code?: string }).code;
    if (code === 'ENOTCAPABLE') return Errno.NOTCAPABLE;
    if (code === 'ENOSYS') return Errno.NOSYS;
    return (code ? NODE_ERRNO[code] : undefined) ?? Errno.IO;
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
    if (fd === 1) { this.opts.stdout(data); return data.length; }
    if (fd === 2) { this.opts.stderr(data); return data.length; }
    const f = this.fds.get(fd);
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
    if (fd === 0) return this.opts.stdin ? this.opts.stdin(into) : 0;
    const f = this.fds.get(fd);
    if (!f || fd < 3) throw Object.assign(new Error('bad fd'), { code: 'EBADF' });
    if (f.kind !== 'file') throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const n = this.fsys().readSync(f.hostFd, into, 0, into.length, f.position);
    f.position += n;
    return n;
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
    const origin = BigInt(Math.round((performance.timeOrigin ?? Date.now() - performance.now()) * 1e6));
    const monotonicNs = () => BigInt(Math.round(performance.now() * 1e6));
    return {
      args_sizes_get: (c: number, s: number) => sizes(self.opts.args, c, s),
      args_get: (ptrs: number, buf: number) => putStrings(self.opts.args, ptrs, buf),
      environ_sizes_get: (c: number, s: number) => sizes(environ(), c, s),
      environ_get: (ptrs: number, buf: number) => putStrings(environ(), ptrs, buf),
      clock_time_get(id: number, _precision: bigint, out: number): number {
        let t: bigint;
        if (id === 0) t = origin + monotonicNs();
        else if (id === 1) t = monotonicNs();
        else if (id === 2 || id === 3) t = self.opts.cpuTimeNs ? self.opts.cpuTimeNs() : monotonicNs();
        else return Errno.INVAL;
        self.view.setBigUint64(out, t, true);
        return Errno.SUCCESS;
      },
      fd_write(fd: number, iovs: number, n: number, written: number): number {
        return self.guard(() => {
          let total = 0;
          for (const [p, l] of self.iovecs(iovs, n)) if (l) total += self.write(fd, self.bytes.slice(p, p + l));
          self.view.setUint32(written, total, true);
          return Errno.SUCCESS;
        });
      },
      fd_read(fd: number, iovs: number, n: number, nread: number): number {
        return self.guard(() => {
          let total = 0;
          for (const [p, l] of self.iovecs(iovs, n)) {
            if (!l) continue;
            const tmp = new Uint8Array(l);
            const got = self.read(fd, tmp);
            self.bytes.set(tmp.subarray(0, got), p);
            total += got;
            if (got < l) break;
          }
          self.view.setUint32(nread, total, true);
          return Errno.SUCCESS;
        });
      },
      fd_seek(fd: number, offset: bigint, whence: number, out: number): number {
        return self.guard(() => {
          const f = self.fds.get(fd);
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
          self.fds.delete(fd);
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
        v.setUint8(out, f.kind === 'dir' ? FILETYPE_DIRECTORY : FILETYPE_REGULAR_FILE);
        if (f.kind === 'file' && f.append) v.setUint16(out + 2, FDFLAGS_APPEND, true);
        v.setBigUint64(out + 8, RIGHTS_ALL, true);
        v.setBigUint64(out + 16, RIGHTS_ALL, true);
        return Errno.SUCCESS;
      },
      fd_fdstat_set_flags(fd: number, flags: number): number {
        const f = self.fds.get(fd);
        if (!f || f.kind !== 'file') return Errno.BADF;
        f.append = (flags & FDFLAGS_APPEND) !== 0;
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
        const old = self.fds.get(to);
        if (old?.kind === 'file') self.fsys().closeSync(old.hostFd);
        self.fds.set(to, f);
        self.fds.delete(from);
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
            const fd = self.nextFd++;
            self.fds.set(fd, { kind: 'dir', host });
            self.view.setUint32(out, fd, true);
            return Errno.SUCCESS;
          }
          let flags = read && write ? c.O_RDWR : write ? c.O_WRONLY : c.O_RDONLY;
          if (oflags & OFLAGS_CREAT) flags |= c.O_CREAT;
          if (oflags & OFLAGS_EXCL) flags |= c.O_EXCL;
          if (oflags & OFLAGS_TRUNC) flags |= c.O_TRUNC;
          const hostFd = fs.openSync(host, flags, 0o666);
          const fd = self.nextFd++;
          self.fds.set(fd, { kind: 'file', hostFd, position: 0, append: (fdflags & FDFLAGS_APPEND) !== 0 });
          self.view.setUint32(out, fd, true);
          return Errno.SUCCESS;
        });
      },
      path_filestat_get(dirFd: number, _flags: number, ptr: number, len: number, out: number): number {
        return self.guard(() => {
          const st = self.fsys().statSync(self.resolve(dirFd, ptr, len));
          const v = self.view;
          const ns = (ms: number | undefined) => BigInt(Math.round((ms ?? 0) * 1e6));
          self.bytes.fill(0, out, out + 64);
          v.setBigUint64(out, BigInt(st.dev ?? 0), true);
          v.setBigUint64(out + 8, BigInt(st.ino ?? 0), true);
          v.setUint8(out + 16, st.isDirectory() ? FILETYPE_DIRECTORY : st.isCharacterDevice?.() ? FILETYPE_CHARACTER_DEVICE
            : st.isFile?.() ?? true ? FILETYPE_REGULAR_FILE : 0);
          v.setBigUint64(out + 24, BigInt(st.nlink ?? 1), true);
          v.setBigUint64(out + 32, BigInt(st.size ?? 0), true);
          v.setBigUint64(out + 40, ns(st.atimeMs), true);
          v.setBigUint64(out + 48, ns(st.mtimeMs), true);
          v.setBigUint64(out + 56, ns(st.ctimeMs), true);
          return Errno.SUCCESS;
        });
      },
      path_unlink_file(dirFd: number, ptr: number, len: number): number {
        return self.guard(() => {
          const host = self.resolve(dirFd, ptr, len);
          if (self.fsys().statSync(host).isDirectory()) return Errno.ISDIR;
          self.fsys().unlinkSync(host);
          return Errno.SUCCESS;
        });
      },
      path_remove_directory(dirFd: number, ptr: number, len: number): number {
        return self.guard(() => { self.fsys().rmdirSync(self.resolve(dirFd, ptr, len)); return Errno.SUCCESS; });
      },
      path_rename(fd1: number, p1: number, l1: number, fd2: number, p2: number, l2: number): number {
        return self.guard(() => { self.fsys().renameSync(self.resolve(fd1, p1, l1), self.resolve(fd2, p2, l2)); return Errno.SUCCESS; });
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
