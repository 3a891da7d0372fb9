// The output log of a pthread-layer process (vms/posix/host/output-log.ts):
// writes of fds 1 and 2 from several threads come back as records in the
// order they were made, a write still being copied is not read, and a full
// log says so instead of losing writes silently.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { appendOutput, newOutputLog, outputText, readOutput } from '../vms/posix/host/output-log.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test('records keep their fd and order; reads resume where the last one ended', () => {
  const log = newOutputLog(256);
  appendOutput(log, 1, enc('one\n'));
  appendOutput(log, 2, enc('err'));
  const first = readOutput(log);
  assert.equal(first.records.map((r) => [r.fd, dec(r.bytes)]), [[1, 'one\n'], [2, 'err']]);
  appendOutput(log, 1, enc('two\n'));
  const second = readOutput(log, first.next);
  assert.equal(second.records.map((r) => [r.fd, dec(r.bytes)]), [[1, 'two\n']]);
  assert.is(readOutput(log, second.next).records.length, 0);
  assert.is(outputText(log, 1), 'one\ntwo\n');
  assert.is(outputText(log, 2), 'err');
  assert.not.ok(second.truncated);
});

test('a reserved record whose header is not yet stored ends the read', () => {
  const log = newOutputLog(256);
  appendOutput(log, 1, enc('done'));
  // a writer between its reservation and its header: 8 bytes reserved, header still 0
  Atomics.add(new Int32Array(log), 0, 8);
  appendOutput(log, 1, enc('after'));
  const r = readOutput(log);
  assert.equal(r.records.map((x) => dec(x.bytes)), ['done']);
  assert.not.ok(r.truncated);
});

test('a write that does not fit truncates the log, and the reader says so', () => {
  const log = newOutputLog(16);
  appendOutput(log, 1, enc('12345678'));
  appendOutput(log, 2, enc('too long for the rest'));
  appendOutput(log, 1, enc('x'));
  const r = readOutput(log);
  assert.equal(r.records.map((x) => dec(x.bytes)), ['12345678']);
  assert.ok(r.truncated);
});

test('writes from four threads at once: each thread\'s records in its order, none lost or torn', async () => {
  const log = newOutputLog(1 << 20);
  const source = `
    const { workerData } = require('node:worker_threads');
    import(workerData.module).then(({ appendOutput }) => {
      for (let i = 0; i < 2000; i++) appendOutput(workerData.log, workerData.id % 2 ? 2 : 1, new TextEncoder().encode(workerData.id + ':' + i + ';'));
    });`;
  const module = new URL('../vms/posix/host/output-log.js', import.meta.url).href;
  await Promise.all([0, 1, 2, 3].map((id) => new Promise<void>((resolve, reject) => {
    new Worker(source, { eval: true, workerData: { log, id, module } }).on('exit', () => resolve()).on('error', reject);
  })));
  const byThread = new Map<string, number[]>();
  for (const r of readOutput(log).records) {
    const [id, i] = dec(r.bytes).replace(';', '').split(':');
    assert.is(r.fd, Number(id) % 2 ? 2 : 1);
    byThread.set(id, [...(byThread.get(id) ?? []), Number(i)]);
  }
  for (const id of ['0', '1', '2', '3']) assert.equal(byThread.get(id), Array.from({ length: 2000 }, (_, i) => i), `thread ${id}`);
});

test('a log of a size it cannot have, and a read from an offset no read returned, are refused', () => {
  const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as { code?: string }).code; } return undefined; };
  for (const bytes of [0, 3, 1.5, 2 ** 30]) assert.is(code(() => newOutputLog(bytes)), 'E_ARG', `newOutputLog(${bytes})`);
  const log = newOutputLog(64);
  for (const from of [-4, 2, 0.5]) assert.is(code(() => readOutput(log, from)), 'E_ARG', `readOutput(log, ${from})`);
});

test.run();
