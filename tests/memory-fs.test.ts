// The in-memory file system (vms/wasi/memory-fs.ts) with node:fs's shape:
// files and directories, the errors node:fs gives (as codes), hard links and
// an open file outliving its name, truncation, renames.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryFs } from '../vms/wasi/memory-fs.js';

const code = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { return (e as { code?: string }).code; }
  return undefined;
};
const text = (s: string) => new TextEncoder().encode(s);

function write(fs: MemoryFs, path: string, s: string, flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC): void {
  const fd = fs.openSync(path, flags);
  fs.writeSync(fd, text(s), 0, text(s).length, 0);
  fs.closeSync(fd);
}

test('directories: made, listed, removed; the errors of a missing parent, a file in the way, a non-empty one', () => {
  const fs = new MemoryFs(['/tmp', '/home', '/home/user']);
  assert.equal(fs.readdirSync('/').sort(), ['home', 'tmp']);
  assert.ok(fs.statSync('/home/user').isDirectory());
  assert.is(code(() => fs.mkdirSync('/tmp')), 'EEXIST');
  assert.is(code(() => fs.mkdirSync('/nope/x')), 'ENOENT');
  write(fs, '/tmp/f', 'x');
  assert.is(code(() => fs.mkdirSync('/tmp/f/g')), 'ENOTDIR');
  assert.is(code(() => fs.readdirSync('/tmp/f')), 'ENOTDIR');
  assert.is(code(() => fs.rmdirSync('/tmp')), 'ENOTEMPTY');
  assert.is(code(() => fs.rmdirSync('/tmp/f')), 'ENOTDIR');
  assert.is(code(() => fs.unlinkSync('/tmp')), 'EISDIR');
  fs.unlinkSync('/tmp/f');
  fs.rmdirSync('/tmp');
  assert.is(code(() => fs.statSync('/tmp')), 'ENOENT');
  assert.is(code(() => fs.rmdirSync('/')), 'EBUSY');
});

test('files: create, exclusive create, append at a position, read back, truncate, stat', () => {
  const fs = new MemoryFs();
  const c = fs.constants;
  assert.is(code(() => fs.openSync('/f', c.O_RDONLY)), 'ENOENT');
  write(fs, '/f', 'hello');
  assert.is(code(() => fs.openSync('/f', c.O_WRONLY | c.O_CREAT | c.O_EXCL)), 'EEXIST');
  const fd = fs.openSync('/f', c.O_RDWR);
  fs.writeSync(fd, text(' world'), 0, 6, 5);
  const buf = new Uint8Array(32);
  assert.is(fs.readSync(fd, buf, 0, 32, 0), 11);
  assert.is(new TextDecoder().decode(buf.subarray(0, 11)), 'hello world');
  assert.is(fs.readSync(fd, buf, 0, 32, 11), 0);
  fs.ftruncateSync(fd, 2);
  fs.ftruncateSync(fd, 4); // extended again: zeros, not the old bytes
  assert.equal([...fs.readFileSync('/f')], [104, 101, 0, 0]);
  assert.is(fs.fstatSync(fd).size, 4);
  fs.writeSync(fd, text('!'), 0, 1, 10); // a hole before it reads as zeros
  assert.equal([...fs.readFileSync('/f')].slice(3), [0, 0, 0, 0, 0, 0, 0, 33]);
  fs.closeSync(fd);
  assert.is(code(() => fs.closeSync(fd)), 'EBADF');
  write(fs, '/f', 'new'); // O_TRUNC
  assert.is(new TextDecoder().decode(fs.readFileSync('/f')), 'new');
  assert.ok(fs.statSync('/f').isFile?.());
  assert.is(code(() => fs.openSync('/f/g', c.O_RDONLY)), 'ENOTDIR');
  assert.is(code(() => fs.openSync('/', c.O_RDONLY)), 'EISDIR');
  assert.is(code(() => fs.openSync('relative', c.O_RDONLY)), 'ENOENT');
});

test('an open file keeps its data after its name is removed; a hard link shares it', () => {
  const fs = new MemoryFs();
  write(fs, '/a', 'data');
  fs.linkSync('/a', '/b');
  assert.is(fs.statSync('/a').nlink, 2);
  const fd = fs.openSync('/a', fs.constants.O_RDONLY);
  fs.unlinkSync('/a');
  fs.unlinkSync('/b');
  const buf = new Uint8Array(8);
  assert.is(fs.readSync(fd, buf, 0, 8, 0), 4);
  assert.is(fs.fstatSync(fd).nlink, 0);
  assert.is(code(() => fs.linkSync('/', '/c')), 'EPERM');
});

test('rename: a file over a file, a directory over an empty one, never into itself; times set', () => {
  const fs = new MemoryFs(['/d', '/d/e', '/empty', '/full', '/full/x']);
  write(fs, '/f', 'one');
  write(fs, '/g', 'two');
  fs.renameSync('/f', '/g');
  assert.is(new TextDecoder().decode(fs.readFileSync('/g')), 'one');
  assert.is(code(() => fs.statSync('/f')), 'ENOENT');
  assert.is(code(() => fs.renameSync('/d', '/d/e/inside')), 'EINVAL');
  assert.is(code(() => fs.renameSync('/d', '/full')), 'ENOTEMPTY');
  assert.is(code(() => fs.renameSync('/g', '/empty')), 'EISDIR');
  assert.is(code(() => fs.renameSync('/d', '/g')), 'ENOTDIR');
  fs.renameSync('/d', '/empty');
  assert.equal(fs.readdirSync('/empty'), ['e']);
  assert.is(code(() => fs.renameSync('/missing', '/x')), 'ENOENT');
  fs.utimesSync('/g', 1.5, 2.25);
  const st = fs.statSync('/g');
  assert.is(st.atimeNs, 1_500_000_000n);
  assert.is(st.mtimeNs, 2_250_000_000n);
});

test.run();
