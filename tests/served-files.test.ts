// The page's read-only file system for Python (vms/python/host/served-files.ts)
// over a small index: the mount point's parents, stat and listdir from the
// index alone, a file's bytes read once when it is opened, and the errors
// Linux gives on a read-only mount.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServedFiles, type PythonLibIndex } from '../vms/python/host/served-files.js';

const INDEX: PythonLibIndex = {
  dirs: ['', 'bin', 'lib', 'lib/python3.11', 'lib/python3.11/lib-dynload'],
  files: { 'bin/python3.11': [3, 100], 'lib/python3.11/os.py': [5, 200] },
};
const BYTES: Record<string, string> = { 'bin/python3.11': '#!x', 'lib/python3.11/os.py': 'pass\n' };

function served(): { fs: ServedFiles; reads: string[] } {
  const reads: string[] = [];
  const fs = new ServedFiles(INDEX, '/usr', (rel) => { reads.push(rel); return new TextEncoder().encode(BYTES[rel]); });
  return { fs, reads };
}

const code = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { return (e as { code?: string }).code; }
  return undefined;
};

test('directories: the mount point\'s parents, the index\'s directories, an empty one', () => {
  const { fs, reads } = served();
  assert.equal(fs.readdirSync('/'), ['usr']);
  assert.equal(fs.readdirSync('/usr/').sort(), ['bin', 'lib']);
  assert.equal(fs.readdirSync('/usr/lib/python3.11').sort(), ['lib-dynload', 'os.py']);
  assert.equal(fs.readdirSync('/usr/lib/python3.11/lib-dynload'), []);
  assert.ok(fs.statSync('/usr/lib').isDirectory());
  assert.is(code(() => fs.readdirSync('/usr/lib/python3.11/os.py')), 'ENOTDIR');
  assert.is(code(() => fs.readdirSync('/nope')), 'ENOENT');
  assert.equal(reads, []);
});

test('stat from the index; a file is fetched once, when opened', () => {
  const { fs, reads } = served();
  const st = fs.statSync('/usr/lib/python3.11/os.py', { bigint: true });
  assert.ok(st.isFile?.());
  assert.is(st.size, 5);
  assert.is(st.mtimeNs, 200_000_000_000n);
  assert.is(code(() => fs.statSync('/usr/lib/python3.11/missing.py')), 'ENOENT');
  assert.equal(reads, []);
  const fd = fs.openSync('/usr/lib/python3.11/os.py', fs.constants.O_RDONLY);
  const buf = new Uint8Array(8);
  assert.is(fs.readSync(fd, buf, 0, 8, 0), 5);
  assert.is(new TextDecoder().decode(buf.subarray(0, 5)), 'pass\n');
  assert.is(fs.readSync(fd, buf, 0, 8, 2), 3);
  assert.is(fs.readSync(fd, buf, 0, 8, 5), 0);
  assert.is(fs.fstatSync(fd).size, 5);
  fs.closeSync(fd);
  assert.equal(reads, ['lib/python3.11/os.py']);
  assert.is(code(() => fs.readSync(fd, buf, 0, 1, 0)), 'EBADF');
  assert.is(code(() => fs.openSync('/usr/lib', fs.constants.O_RDONLY)), 'EISDIR');
});

test('changes fail as on a read-only mount: EROFS, or ENOENT where the parent is missing', () => {
  const { fs } = served();
  const c = fs.constants;
  assert.is(code(() => fs.openSync('/usr/lib/python3.11/os.py', c.O_WRONLY)), 'EROFS');
  assert.is(code(() => fs.openSync('/usr/new.txt', c.O_WRONLY | c.O_CREAT)), 'EROFS');
  assert.is(code(() => fs.openSync('/usr/new.txt', c.O_WRONLY)), 'ENOENT');
  assert.is(code(() => fs.openSync('/tmp/new.txt', c.O_WRONLY | c.O_CREAT)), 'ENOENT');
  assert.is(code(() => fs.mkdirSync('/usr/lib')), 'EEXIST');
  assert.is(code(() => fs.mkdirSync('/usr/lib/d')), 'EROFS');
  assert.is(code(() => fs.unlinkSync('/usr/lib/python3.11/os.py')), 'EROFS');
  assert.is(code(() => fs.renameSync('/usr/lib/python3.11/os.py', '/usr/lib/python3.11/os2.py')), 'EROFS');
  assert.is(code(() => fs.rmdirSync('/usr/lib/python3.11/lib-dynload')), 'EROFS');
});

test('a mount point that is not an absolute path below / is refused', () => {
  for (const mount of ['/', 'usr', '/usr/', '']) {
    assert.is(code(() => new ServedFiles(INDEX, mount, () => new Uint8Array())), 'E_ARG', JSON.stringify(mount));
  }
});

test.run();
