// A file system in memory with node:fs's synchronous shape (WasiFs): for a
// host with no files of its own to give a program, a page. Directories and
// regular files, hard links; no symbolic links, no permissions. An open file
// keeps its data after its last name is removed, as on Linux. Errors are
// thrown as node:fs throws them (an object with `code`), so Wasi maps them
// the same way.
import { fsError as fail, type WasiFs, type WasiStat } from './wasi.js';

interface Times { atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint }
interface FileNode extends Times { kind: 'file'; ino: number; nlink: number; data: Uint8Array; size: number }
interface DirNode extends Times { kind: 'dir'; ino: number; entries: Map<string, Node> }
type Node = FileNode | DirNode;

const now = (): bigint => BigInt(Date.now()) * 1_000_000n;

export class MemoryFs implements WasiFs {
  readonly constants = { O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_TRUNC: 0o1000, O_APPEND: 0o2000 };
  private nextIno = 1;
  private readonly root: DirNode = this.dir();
  private readonly open = new Map<number, FileNode>();
  private nextFd = 1;

  /** `dirs`: directories to create first, parents before children (e.g. ['/tmp', '/home', '/home/user']). */
  constructor(dirs: string[] = []) {
    for (const d of dirs) this.mkdirSync(d);
  }

  private times(): Times {
    const t = now();
    return { atimeNs: t, mtimeNs: t, ctimeNs: t };
  }

  private dir(): DirNode {
    return { kind: 'dir', ino: this.nextIno++, entries: new Map(), ...this.times() };
  }

  private static parts(path: string): string[] {
    if (!path.startsWith('/')) fail('ENOENT', path);
    return path.split('/').filter((p) => p && p !== '.');
  }

  /** The node at `path`, undefined when its last component is missing (a missing parent throws). */
  private lookup(path: string): Node | undefined {
    let node: Node = this.root;
    const parts = MemoryFs.parts(path);
    for (let i = 0; i < parts.length; i++) {
      if (node.kind !== 'dir') return fail('ENOTDIR', path);
      if (parts[i] === '..') return fail('EINVAL', path); // Wasi resolves '..' before paths get here
      const next: Node | undefined = node.entries.get(parts[i]);
      if (!next) return i === parts.length - 1 ? undefined : fail('ENOENT', path);
      node = next;
    }
    return node;
  }

  private node(path: string): Node {
    return this.lookup(path) ?? fail('ENOENT', path);
  }

  /** The directory that holds `path`'s last component, and that component. */
  private parent(path: string): [DirNode, string] {
    const parts = MemoryFs.parts(path);
    const name = parts.pop();
    if (name === undefined) return fail('EBUSY', path); // the root itself
    const dir = this.node(`/${parts.join('/')}`);
    if (dir.kind !== 'dir') return fail('ENOTDIR', path);
    return [dir, name];
  }

  private static stat(n: Node): WasiStat {
    return {
      isDirectory: () => n.kind === 'dir',
      isFile: () => n.kind === 'file',
      isSymbolicLink: () => false,
      size: n.kind === 'file' ? n.size : 4096, ino: n.ino, dev: 1, nlink: n.kind === 'file' ? n.nlink : 1,
      atimeNs: n.atimeNs, mtimeNs: n.mtimeNs, ctimeNs: n.ctimeNs,
    };
  }

  statSync(path: string, _opts?: { bigint?: boolean }): WasiStat { return MemoryFs.stat(this.node(path)); }
  lstatSync(path: string, _opts?: { bigint?: boolean }): WasiStat { return MemoryFs.stat(this.node(path)); }

  readdirSync(path: string): string[] {
    const n = this.node(path);
    return n.kind === 'dir' ? [...n.entries.keys()] : fail('ENOTDIR', path);
  }

  mkdirSync(path: string, _mode?: number): void {
    const [dir, name] = this.parent(path);
    if (dir.entries.has(name)) fail('EEXIST', path);
    dir.entries.set(name, this.dir());
    dir.mtimeNs = dir.ctimeNs = now();
  }

  rmdirSync(path: string): void {
    const [dir, name] = this.parent(path);
    const n = dir.entries.get(name) ?? fail('ENOENT', path);
    if (n.kind !== 'dir') fail('ENOTDIR', path);
    if ((n as DirNode).entries.size) fail('ENOTEMPTY', path);
    dir.entries.delete(name);
    dir.mtimeNs = dir.ctimeNs = now();
  }

  unlinkSync(path: string): void {
    const [dir, name] = this.parent(path);
    const n = dir.entries.get(name) ?? fail('ENOENT', path);
    if (n.kind === 'dir') fail('EISDIR', path);
    (n as FileNode).nlink--;
    dir.entries.delete(name);
    dir.mtimeNs = dir.ctimeNs = now();
  }

  linkSync(existing: string, path: string): void {
    const n = this.node(existing);
    if (n.kind === 'dir') fail('EPERM', existing);
    const [dir, name] = this.parent(path);
    if (dir.entries.has(name)) fail('EEXIST', path);
    (n as FileNode).nlink++;
    dir.entries.set(name, n);
  }

  renameSync(from: string, to: string): void {
    const [fromDir, fromName] = this.parent(from);
    const n = fromDir.entries.get(fromName) ?? fail('ENOENT', from);
    const [toDir, toName] = this.parent(to);
    if (n === toDir || (n.kind === 'dir' && this.contains(n, toDir))) fail('EINVAL', to); // into itself
    const old = toDir.entries.get(toName);
    if (old === n) return;
    if (old) {
      if (old.kind === 'dir' && n.kind !== 'dir') fail('EISDIR', to);
      if (old.kind !== 'dir' && n.kind === 'dir') fail('ENOTDIR', to);
      if (old.kind === 'dir' && old.entries.size) fail('ENOTEMPTY', to);
      if (old.kind === 'file') old.nlink--;
    }
    fromDir.entries.delete(fromName);
    toDir.entries.set(toName, n);
    fromDir.mtimeNs = toDir.mtimeNs = n.ctimeNs = now();
  }

  private contains(dir: DirNode, n: Node): boolean {
    for (const e of dir.entries.values()) if (e === n || (e.kind === 'dir' && this.contains(e, n))) return true;
    return false;
  }

  utimesSync(path: string, atime: number, mtime: number): void {
    const n = this.node(path);
    const ns = (s: number) => BigInt(Math.round(s * 1e6)) * 1000n;
    n.atimeNs = ns(atime);
    n.mtimeNs = ns(mtime);
    n.ctimeNs = now();
  }

  openSync(path: string, flags: number, _mode?: number): number {
    const c = this.constants;
    let n = this.lookup(path);
    if (n && flags & c.O_CREAT && flags & c.O_EXCL) fail('EEXIST', path);
    if (!n) {
      if (!(flags & c.O_CREAT)) fail('ENOENT', path);
      const [dir, name] = this.parent(path);
      n = { kind: 'file', ino: this.nextIno++, nlink: 1, data: new Uint8Array(0), size: 0, ...this.times() };
      dir.entries.set(name, n);
      dir.mtimeNs = dir.ctimeNs = now();
    }
    if (n.kind === 'dir') return fail('EISDIR', path);
    if (flags & c.O_TRUNC && flags & (c.O_WRONLY | c.O_RDWR)) this.resize(n, 0);
    const fd = this.nextFd++;
    this.open.set(fd, n);
    return fd;
  }

  private file(fd: number): FileNode {
    return this.open.get(fd) ?? fail('EBADF', String(fd));
  }

  closeSync(fd: number): void {
    this.file(fd);
    this.open.delete(fd);
  }

  private resize(n: FileNode, size: number): void {
    if (size > n.data.length) {
      const grown = new Uint8Array(Math.max(size, n.data.length * 2, 256));
      grown.set(n.data.subarray(0, n.size));
      n.data = grown;
    } else if (size < n.size) {
      n.data.fill(0, size, n.size); // a later extension reads zeros, as after ftruncate
    }
    n.size = size;
    n.mtimeNs = n.ctimeNs = now();
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    const n = this.file(fd);
    const at = position ?? 0;
    const count = Math.max(0, Math.min(length, n.size - at));
    buffer.set(n.data.subarray(at, at + count), offset);
    n.atimeNs = now();
    return count;
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    const n = this.file(fd);
    const at = position ?? n.size;
    if (at + length > n.size) this.resize(n, at + length);
    n.data.set(buffer.subarray(offset, offset + length), at);
    n.mtimeNs = n.ctimeNs = now();
    return length;
  }

  fstatSync(fd: number, _opts?: { bigint?: boolean }): WasiStat & { size: number } {
    const n = this.file(fd);
    return { ...MemoryFs.stat(n), size: n.size };
  }

  ftruncateSync(fd: number, len: number): void {
    this.resize(this.file(fd), len);
  }

  fsyncSync(fd: number): void {
    this.file(fd);
  }

  /** A file's bytes by its path (the host reading what the program wrote). */
  readFileSync(path: string): Uint8Array {
    const n = this.node(path);
    return n.kind === 'file' ? n.data.slice(0, n.size) : fail('EISDIR', path);
  }
}
