// Several file systems as one (WasiFs), each mounted at a directory: a path
// goes to the file system of the longest mount point that holds it (whole,
// not stripped: each knows where it is mounted), and a directory's listing
// shows the mount points inside it. Descriptors are this object's own. A
// rename or a link across two file systems fails with EXDEV, as on Linux.
import { InvalidArgumentError } from '../../host/errors.js';
import { fsError as fail, type WasiFs, type WasiStat } from './wasi.js';

export class MountedFs implements WasiFs {
  readonly constants = { O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_TRUNC: 0o1000, O_APPEND: 0o2000 };
  private readonly points: [string, WasiFs][];
  private readonly fds = new Map<number, [WasiFs, number]>();
  private nextFd = 1;

  /** `mounts`: mount point ('/' among them) → file system; every one uses these `constants`. */
  constructor(mounts: Record<string, WasiFs>) {
    if (!mounts['/']) throw new InvalidArgumentError('MountedFs: a file system is mounted at /');
    for (const [point, fs] of Object.entries(mounts)) {
      if (point !== '/' && !/^(\/[^/]+)+$/.test(point)) throw new InvalidArgumentError(`MountedFs: ${JSON.stringify(point)} is no absolute path`);
      for (const [k, v] of Object.entries(this.constants)) {
        if (fs.constants[k as keyof WasiFs['constants']] !== v) throw new InvalidArgumentError(`MountedFs: the file system at ${point} numbers ${k} otherwise`);
      }
    }
    // longest first: the first that holds a path is its own
    this.points = Object.entries(mounts).sort(([a], [b]) => b.length - a.length);
  }

  private at(path: string): WasiFs {
    for (const [point, fs] of this.points) if (point === '/' || path === point || path.startsWith(`${point}/`)) return fs;
    return fail('ENOENT', path);
  }

  private fd(fd: number): [WasiFs, number] {
    return this.fds.get(fd) ?? fail('EBADF', String(fd));
  }

  private same(a: string, b: string): WasiFs {
    const fs = this.at(a);
    return fs === this.at(b) ? fs : fail('EXDEV', `${a} -> ${b}`);
  }

  openSync(path: string, flags: number, mode?: number): number {
    const fs = this.at(path);
    const fd = this.nextFd++;
    this.fds.set(fd, [fs, fs.openSync(path, flags, mode)]);
    return fd;
  }

  closeSync(fd: number): void {
    const [fs, own] = this.fd(fd);
    this.fds.delete(fd);
    fs.closeSync(own);
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    const [fs, own] = this.fd(fd);
    return fs.readSync(own, buffer, offset, length, position);
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    const [fs, own] = this.fd(fd);
    return fs.writeSync(own, buffer, offset, length, position);
  }

  fstatSync(fd: number, opts?: { bigint?: boolean }): { size: number; isDirectory(): boolean } {
    const [fs, own] = this.fd(fd);
    return (fs.fstatSync as (fd: number, o?: object) => { size: number; isDirectory(): boolean })(own, opts);
  }

  statSync(path: string, opts?: { bigint?: boolean }): WasiStat { return this.at(path).statSync(path, opts); }

  lstatSync(path: string, opts?: { bigint?: boolean }): WasiStat {
    const fs = this.at(path);
    return fs.lstatSync ? fs.lstatSync(path, opts) : fs.statSync(path, opts);
  }

  readdirSync(path: string): string[] {
    const fs = this.at(path);
    const names = fs.readdirSync ? fs.readdirSync(path) : fail('ENOSYS', 'readdir');
    const dir = path.length > 1 ? path.replace(/\/+$/, '') : path;
    for (const [point] of this.points) {
      const parent = point.slice(0, point.lastIndexOf('/')) || '/';
      const name = point.slice(point.lastIndexOf('/') + 1);
      if (point !== '/' && parent === dir && !names.includes(name)) names.push(name);
    }
    return names;
  }

  private need<K extends 'mkdirSync' | 'readlinkSync' | 'symlinkSync' | 'linkSync' | 'ftruncateSync' | 'utimesSync' | 'fsyncSync'>(fs: WasiFs, k: K): NonNullable<WasiFs[K]> {
    const f = fs[k];
    return f ? (f.bind(fs) as NonNullable<WasiFs[K]>) : fail('ENOSYS', k);
  }

  mkdirSync(path: string, mode?: number): unknown { return this.need(this.at(path), 'mkdirSync')(path, mode); }
  rmdirSync(path: string): void { this.at(path).rmdirSync(path); }
  unlinkSync(path: string): void { this.at(path).unlinkSync(path); }
  renameSync(from: string, to: string): void { this.same(from, to).renameSync(from, to); }
  linkSync(existing: string, path: string): void { this.need(this.same(existing, path), 'linkSync')(existing, path); }
  readlinkSync(path: string): string { return this.need(this.at(path), 'readlinkSync')(path); }
  symlinkSync(target: string, path: string): void { this.need(this.at(path), 'symlinkSync')(target, path); }
  utimesSync(path: string, atime: number, mtime: number): void { this.need(this.at(path), 'utimesSync')(path, atime, mtime); }

  ftruncateSync(fd: number, len: number): void {
    const [fs, own] = this.fd(fd);
    this.need(fs, 'ftruncateSync')(own, len);
  }

  fsyncSync(fd: number): void {
    const [fs, own] = this.fd(fd);
    this.need(fs, 'fsyncSync')(own);
  }
}
