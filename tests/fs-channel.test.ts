// One file system for several workers (vms/wasi/fs-channel.ts): the tree on
// this thread, served without blocking, and four workers calling it at once
// through RemoteFs — files larger than the channel go in pieces, each
// worker's bytes come back whole, errors arrive with their codes, and calls
// after the server stops fail with EIO instead of waiting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { MemoryFs } from '../vms/wasi/memory-fs.js';
import { newFsChannel, serveFs } from '../vms/wasi/fs-channel.js';
import { within } from './lib/helpers.js';

const MODULE = new URL('../vms/wasi/fs-channel.js', import.meta.url).href;

/** Runs `body` (a function of (RemoteFs, id)) on a worker over `channel`; resolves with what it returns. */
function onWorker(channel: SharedArrayBuffer, id: number, body: string): Promise<unknown> {
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.module).then(({ RemoteFs }) => {
      const fs = new RemoteFs(workerData.channel);
      const code = (f) => { try { f(); } catch (e) { return e.code; } };
      parentPort.postMessage((${body})(fs, workerData.id, code));
    }).catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData: { channel, id, module: MODULE } });
    w.once('message', (m) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  });
}

test('four workers write, read and list at once; large files go in pieces; errors keep their codes', async () => {
  const memory = new MemoryFs(['/tmp']);
  const channel = newFsChannel(4096); // a piece is 2 KiB: every file below takes many
  const server = serveFs(channel, memory);
  try {
    const results = await within(60_000, () => Promise.all([0, 1, 2, 3].map((id) => onWorker(channel, id, `(fs, id, code) => {
      const c = fs.constants;
      const data = new Uint8Array(50000).map((_, i) => (i * 7 + id) & 255);
      const fd = fs.openSync('/tmp/f' + id, c.O_WRONLY | c.O_CREAT | c.O_TRUNC);
      for (let at = 0; at < data.length; at += 10000) fs.writeSync(fd, data, at, 10000, at);
      fs.closeSync(fd);
      const back = new Uint8Array(60000);
      const rd = fs.openSync('/tmp/f' + id, c.O_RDONLY);
      const n = fs.readSync(rd, back, 0, back.length, 0);
      const size = fs.fstatSync(rd).size;
      fs.closeSync(rd);
      const same = n === data.length && data.every((b, i) => back[i] === b);
      return { n, size, same, isFile: fs.statSync('/tmp/f' + id).isFile(), missing: code(() => fs.statSync('/tmp/none')),
        exists: code(() => fs.mkdirSync('/tmp')), badFd: code(() => fs.closeSync(999)) };
    }`))), 'four workers');
    for (const r of results) {
      assert.equal(r, { n: 50000, size: 50000, same: true, isFile: true, missing: 'ENOENT', exists: 'EEXIST', badFd: 'EBADF' });
    }
    assert.equal(memory.readdirSync('/tmp').sort(), ['f0', 'f1', 'f2', 'f3']);
    assert.is(memory.readFileSync('/tmp/f3')[1], (7 + 3) & 255);
  } finally {
    server.stop();
  }
});

test('after the server stops, a call fails with EIO', async () => {
  const channel = newFsChannel();
  serveFs(channel, new MemoryFs()).stop();
  const r = await within(30_000, () => onWorker(channel, 0, '(fs, id, code) => code(() => fs.statSync("/"))'), 'a call to a stopped server');
  assert.is(r, 'EIO');
});

test('a channel of a size it cannot have is refused', () => {
  for (const n of [0, 100, 1.5]) {
    let got: string | undefined;
    try { newFsChannel(n); } catch (e) { got = (e as { code?: string }).code; }
    assert.is(got, 'E_ARG', String(n));
  }
});

test.run();
