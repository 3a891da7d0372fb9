// Several file systems as one (vms/wasi/mounted-fs.ts): a path goes to its
// mount point's file system, whole; listings show the mount points; each
// descriptor reaches the file system that opened it; renames and links across
// two fail with EXDEV; a bad mount table is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryFs } from '../vms/wasi/memory-fs.js';
import { MountedFs } from '../vms/wasi/mounted-fs.js';

const code = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { return (e as { code?: string }).code; }
  return undefined;
};

test('paths, listings and descriptors go to their mount point\'s file system', () => {
  const root = new MemoryFs(['/tmp']);
  const usr = new MemoryFs(['/usr', '/usr/lib']);
  const fs = new MountedFs({ '/': root, '/usr': usr });
  assert.equal(fs.readdirSync('/').sort(), ['tmp', 'usr']);
  assert.equal(fs.readdirSync('/usr'), ['lib']);
  const c = fs.constants;
  const a = fs.openSync('/tmp/a', c.O_WRONLY | c.O_CREAT);
  const b = fs.openSync('/usr/lib/b', c.O_WRONLY | c.O_CREAT);
  fs.writeSync(a, new Uint8Array([1]), 0, 1, 0);
  fs.writeSync(b, new Uint8Array([2, 2]), 0, 2, 0);
  assert.is(fs.fstatSync(a).size, 1);
  assert.is(fs.fstatSync(b).size, 2);
  fs.closeSync(a);
  fs.closeSync(b);
  assert.equal([...root.readFileSync('/tmp/a')], [1]);
  assert.equal([...usr.readFileSync('/usr/lib/b')], [2, 2]);
  assert.is(code(() => root.statSync('/usr/lib/b')), 'ENOENT');
  assert.is(code(() => fs.closeSync(a)), 'EBADF');
  assert.is(code(() => fs.renameSync('/tmp/a', '/usr/a')), 'EXDEV');
  assert.is(code(() => fs.linkSync('/tmp/a', '/usr/a')), 'EXDEV');
  fs.renameSync('/tmp/a', '/tmp/c');
  assert.equal(fs.readdirSync('/tmp'), ['c']);
  assert.is(code(() => fs.readlinkSync('/tmp/c')), 'ENOSYS');
});

test('a mount table without / or with a relative point is refused', () => {
  assert.is(code(() => new MountedFs({ '/usr': new MemoryFs() })), 'E_ARG');
  assert.is(code(() => new MountedFs({ '/': new MemoryFs(), usr: new MemoryFs() })), 'E_ARG');
});

test.run();
