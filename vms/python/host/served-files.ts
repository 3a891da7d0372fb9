// A read-only file system for Python in a page: the tree of build/python-lib
// mounted at a guest path (/usr: page-files.ts), its shape from the index
// scripts/python-lib-index.mjs writes (build/python-lib.json) and a file's
// bytes fetched when it is opened. stat, listdir and the import system's
// scans never leave the worker; only an open reads, through `read` (a
// synchronous request in a page's worker). Every write fails with EROFS.
// Platform-neutral: the reader is a parameter (node:fs in a test).
import { fsError as fail, type WasiFs, type WasiStat } from '../../wasi/wasi.js';
import { InvalidArgumentError } from '../../../host/errors.js';

/** build/python-lib.json: directories ('' is the tree's root) and files (size, modification time in s). */
export interface PythonLibIndex {
  dirs: string[];
  files: Record<string, [number, number]>;
}

interface Open { bytes: Uint8Array; path: string }

/**
 * The tree at `mount` (an absolute guest path: its parents exist, empty but for it). `read(rel)` returns a file's
 * bytes by its path relative to the tree's root; it may block.
 */
export class ServedFiles implements WasiFs {
  readonly constants = { O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_TRUNC: 0o1000, O_APPEND: 0o2000 };
  private readonly dirs = new Map<string, string[]>();
  private readonly files = new Map<string, [number, number]>();
  private readonly open = new Map<number, Open>();
  private nextFd = 1;
  private readonly mtime: number;

  constructor(index: PythonLibIndex, private readonly mount: string, private readonly read: (rel: string) => Uint8Array) {
    if (!/^(\/[^/]+)+$/.test(mount)) throw new InvalidArgumentError(`ServedFiles: the mount point is an absolute path below /, got ${JSON.stringify(mount)}`);
    const guest = (rel: string) => (rel ? `${mount}/${rel}` : mount);
    const add = (dir: string, name: string) => {
      const list = this.dirs.get(dir) ?? [];
      if (!list.includes(name)) list.push(name);
      this.dirs.set(dir, list);
    };
    // the mount point's parents, down from '/'
    const parts = mount.split('/').filter(Boolean);
    this.dirs.set('/', []);
    parts.forEach((p, i) => add(i ? `/${parts.slice(0, i).join('/')}` : '/', p));
    for (const d of index.dirs) {
      if (!this.dirs.has(guest(d))) this.dirs.set(guest(d), []);
      if (d) add(guest(d.slice(0, Math.max(0, d.lastIndexOf('/')))), d.slice(d.lastIndexOf('/') + 1));
    }
    for (const [f, meta] of Object.entries(index.files)) {
      this.files.set(guest(f), meta);
      add(guest(f.slice(0, Math.max(0, f.lastIndexOf('/')))), f.slice(f.lastIndexOf('/') + 1));
    }
    this.mtime = Math.max(0, ...[...this.files.values()].map(([, t]) => t));
  }

  /** The guest path without a trailing slash ('/' stays). */
  private static norm(path: string): string {
    return path.length > 1 ? path.replace(/\/+$/, '') : path;
  }

  private stat(path: string): WasiStat {
    const p = ServedFiles.norm(path);
    const file = this.files.get(p);
    const dir = this.dirs.has(p);
    if (!file && !dir) fail('ENOENT', p);
    const [size, seconds] = file ?? [4096, this.mtime];
    const ns = BigInt(seconds) * 1_000_000_000n;
    return {
      isDirectory: () => dir,
      isFile: () => !dir,
      isSymbolicLink: () => false,
      size, nlink: 1, ino: 0, dev: 0, atimeNs: ns, mtimeNs: ns, ctimeNs: ns,
    };
  }

  // every time is in ns (bigint) already, whatever `opts` asks
  statSync(path: string, _opts?: { bigint?: boolean }): WasiStat { return this.stat(path); }
  lstatSync(path: string, _opts?: { bigint?: boolean }): WasiStat { return this.stat(path); }

  readdirSync(path: string): string[] {
    const p = ServedFiles.norm(path);
    const list = this.dirs.get(p);
    if (!list) return fail(this.files.has(p) ? 'ENOTDIR' : 'ENOENT', p);
    return [...list];
  }

  openSync(path: string, flags: number): number {
    const p = ServedFiles.norm(path);
    const c = this.constants;
    if (flags & (c.O_WRONLY | c.O_RDWR | c.O_CREAT | c.O_TRUNC)) {
      if (!this.files.has(p) && !(flags & c.O_CREAT)) fail('ENOENT', p);
      this.readOnly(p);
    }
    if (!this.files.has(p)) fail(this.dirs.has(p) ? 'EISDIR' : 'ENOENT', p);
    const fd = this.nextFd++;
    this.open.set(fd, { bytes: this.read(p.slice(this.mount.length + 1)), path: p });
    return fd;
  }

  private file(fd: number): Open {
    return this.open.get(fd) ?? fail('EBADF', String(fd));
  }

  closeSync(fd: number): void {
    this.file(fd);
    this.open.delete(fd);
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    const { bytes } = this.file(fd);
    const at = position ?? 0;
    const n = Math.max(0, Math.min(length, bytes.length - at));
    buffer.set(bytes.subarray(at, at + n), offset);
    return n;
  }

  fstatSync(fd: number): WasiStat & { size: number } {
    const f = this.file(fd);
    return { ...this.stat(f.path), size: f.bytes.length };
  }

  writeSync(): number { return fail('EBADF', 'opened read-only'); }
  unlinkSync(path: string): void { this.readOnly(path); }
  renameSync(from: string, _to: string): void { this.readOnly(from); }
  rmdirSync(path: string): void { this.readOnly(path); }
  mkdirSync(path: string): void {
    if (this.dirs.has(ServedFiles.norm(path)) || this.files.has(ServedFiles.norm(path))) fail('EEXIST', path);
    this.readOnly(path);
  }

  /** What Linux says of a change on a read-only mount: ENOENT for a missing name, else EROFS. */
  private readOnly(path: string): never {
    const p = ServedFiles.norm(path);
    const parent = p.slice(0, p.lastIndexOf('/')) || '/';
    return fail(this.files.has(p) || this.dirs.has(p) || this.dirs.has(parent) ? 'EROFS' : 'ENOENT', p);
  }
}
