// README: createRuntime({ stopTimeoutMs }) is the "default deadline of every
// stop-the-world and fork". Each kind of thread — the main thread, a job's
// worker, a Lua thread, a thread of the pthread layer (CPython's) — stops and
// forks with a call that names no deadline while a straggler never reaches a
// safe point: the error names the runtime's deadline, not the built-in one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ForkRefusedError, StopTimeoutError, DEFAULT_STOP_TIMEOUT_MS, type Runtime } from '../host/node/index.js';
import { userWordAddr, handleIndex } from '../host/layout.js';
import { POSIX_NODE_JOB } from '../vms/posix/host/node-job.js';
import { captureText, newCapture } from '../vms/posix/host/capture.js';
import { LUA_WASM, ensureLuaWasm } from './lib/lua-run.js';
import { posixForkProgram } from './lib/posix-run.js';
import { startPosixProcess } from '../vms/posix/host/process.js';
import { CORE_WASM, createRuntime, job, outcome, waitFor, within } from './lib/helpers.js';

const DEADLINE = 150;
assert.is.not(DEADLINE, DEFAULT_STOP_TIMEOUT_MS);
const FORK = { continuation: job('fork-child'), pool: 0 };

// A worker that never polls, spinning once this resolves.
async function straggle(rt: Runtime): Promise<void> {
  const w = rt.spawn(job('straggler'));
  const h = await w.registered();
  const i32 = new Int32Array(rt.memory.buffer);
  await waitFor(() => Atomics.load(i32, userWordAddr(handleIndex(h), 1) >> 2) === 1, 20_000, 'the straggler to spin');
}

test('createRuntime({ stopTimeoutMs }) governs the main thread\'s stops and forks, sync and async', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ stopTimeoutMs: DEADLINE, fork: FORK });
    try {
      await straggle(rt);
      for (const stop of [() => rt.stopTheWorld(), () => rt.stopTheWorldAsync(), () => rt.main.stopTheWorld()]) {
        const e = await outcome(stop);
        assert.instance(e, StopTimeoutError);
        assert.match((e as Error).message, `timed out after ${DEADLINE} ms`);
        assert.is((e as StopTimeoutError).timeoutMs, DEADLINE);
      }
      for (const fork of [() => rt.fork(), () => rt.forkAsync(), () => rt.main.fork()]) {
        const e = await outcome(fork);
        assert.instance(e, ForkRefusedError);
        assert.match((e as Error).message, `after ${DEADLINE} ms`);
      }
    } finally {
      await rt.close({ graceMs: 5000 });
    }
  }));

test('createRuntime({ stopTimeoutMs }) governs a worker\'s ctx.stopTheWorld() and ctx.fork()', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ stopTimeoutMs: DEADLINE, fork: FORK });
    try {
      await straggle(rt);
      const got = (await rt.spawn(job('deadline-probe')).join()) as { stop?: { code: string; message: string }; fork?: { code: string; message: string } };
      assert.is(got.stop?.code, 'E_TIMEOUT');
      assert.match(got.stop?.message ?? '', `timed out after ${DEADLINE} ms`, 'the worker\'s stop used the runtime\'s deadline');
      assert.is(got.fork?.code, 'E_AGAIN');
      assert.match(got.fork?.message ?? '', `after ${DEADLINE} ms`, 'the worker\'s fork used the runtime\'s deadline');
    } finally {
      await rt.close({ graceMs: 5000 });
    }
  }));

test('createRuntime({ stopTimeoutMs }) governs a Lua thread\'s os.fork', () =>
  ensureLuaWasm()
    ? within(120_000, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stop-deadline-'));
      const file = path.join(dir, 'fork.lua');
      fs.writeFileSync(file, 'local pid, msg, errno = os.fork()\nif pid == 0 then os.exit(0) end\nprint(tostring(pid), errno, msg)\n');
      const capture = newCapture();
      const p = await startPosixProcess({
        core: await WebAssembly.compile(fs.readFileSync(CORE_WASM)),
        program: await WebAssembly.compile(fs.readFileSync(LUA_WASM)),
        args: ['lua', file], capture,
        // the straggler spins before lua.c's main starts
        createRuntime: async (o) => {
          const rt = await createRuntime({ ...o, stopTimeoutMs: DEADLINE });
          await straggle(rt);
          return rt;
        },
        job: POSIX_NODE_JOB,
        fork: { continuation: new URL('../vms/posix/host/fork-continuation.js', import.meta.url), pool: 0 },
        programUrl: pathToFileURL(LUA_WASM).href,
      });
      assert.is(await p.status, 0, captureText(capture));
      const [pid, errno, ...msg] = captureText(capture).trim().split('\t');
      assert.is(pid, 'nil', 'the fork was refused');
      assert.is(errno, '6', 'EAGAIN, as lua.wasm\'s libc (WASI) numbers it');
      assert.match(msg.join('\t'), `after ${DEADLINE} ms`, 'the Lua thread\'s fork used the runtime\'s deadline');
    })
    : undefined);

test('createRuntime({ stopTimeoutMs }) governs a pthread-layer thread\'s fork() (CPython\'s os.fork)', async () => {
  const wasm = await posixForkProgram('fork-refused');
  if (!wasm) return; // no clang-19 outside CI: nothing to build it with
  await within(120_000, async () => {
    const capture = newCapture();
    const p = await startPosixProcess({
      core: await WebAssembly.compile(fs.readFileSync(CORE_WASM)),
      program: await WebAssembly.compile(fs.readFileSync(wasm)),
      args: ['fork-refused'], capture,
      // the straggler spins before main() starts
      createRuntime: async (o) => {
        const rt = await createRuntime({ ...o, stopTimeoutMs: DEADLINE });
        await straggle(rt);
        return rt;
      },
      job: POSIX_NODE_JOB,
      fork: { continuation: new URL('../vms/posix/host/fork-continuation.js', import.meta.url), pool: 0 },
      programUrl: pathToFileURL(wasm).href,
    });
    assert.is(await p.status, 0, captureText(capture));
    const [pid, errno, reason] = captureText(capture).trim().split('\t');
    assert.is(pid, '-1', 'the fork was refused');
    assert.is(errno, '6', 'EAGAIN, as the program\'s libc (WASI) numbers it');
    assert.match(reason ?? '', `after ${DEADLINE} ms`, 'the thread\'s fork used the runtime\'s deadline');
  });
});

test.run();
