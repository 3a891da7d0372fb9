// Stop-the-world from the host reaches Python threads that compute: every
// stop asks the GIL's holder for the GIL (vms/python/src/gil_stop.c, the
// layer's stop signals and guard), so a thread running Python code is parked
// at its next eval-breaker check, with the GIL given up. Programs in
// tests/python/stop/; docs/PYTHON.md "Threads".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNodePosixProcess } from '../vms/posix/host/node-process.js';
import type { PosixProcess } from '../vms/posix/host/process.js';
import { captureText, newCapture } from '../vms/posix/host/capture.js';
import { StopTimeoutError } from '../host/errors.js';
import { outcome, waitFor, within } from './lib/helpers.js';
import { PYTHON_EXECUTABLE, PYTHON_PROGRAMS, PYTHON_WASM, ensurePythonWasm } from './lib/python-run.js';

const STOPS = path.join(PYTHON_PROGRAMS, 'stop');
/** Far above a stop's time; a stop that needs it has failed to reach a thread. */
const DEADLINE_MS = 20_000;

interface Run { p: PosixProcess; capture: SharedArrayBuffer; flag: string; dir: string }

async function start(program: string, args: string[]): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'python-stop-'));
  const flag = path.join(dir, 'flag');
  const capture = newCapture();
  const p = await startNodePosixProcess(PYTHON_WASM, [PYTHON_EXECUTABLE, path.join(STOPS, program), ...args, flag],
    { capture, env: { PYTHONDONTWRITEBYTECODE: '1' }, endOnWorkerDeath: true });
  return { p, capture, flag, dir };
}

/** The program's threads (every slot but the host's own). */
const others = (p: PosixProcess) => p.rt.threadStates().filter((s) => s.handle !== p.rt.main.handle);

/** Runs `program` while `during` drives the host, then lets it end (the flag) and returns its output (status 0). */
async function withProgram(program: string, args: string[], during: (r: Run) => Promise<void>): Promise<string> {
  const r = await start(program, args);
  try {
    await during(r).catch(async (e: unknown) => {
      fs.writeFileSync(r.flag, '');
      await r.p.status.catch(() => undefined);
      throw e;
    });
    fs.writeFileSync(r.flag, '');
    const status = await within(300_000, () => r.p.status, 'the program to end');
    const out = captureText(r.capture);
    assert.is(status, 0, out);
    return out;
  } finally {
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
}

if (!ensurePythonWasm()) {
  test('python stop-the-world (skipped: clang-19 missing outside CI)', () => {});
} else {
  for (const [n, form] of [[2, 'sync'], [4, 'async']] as const) {
    test(`${n} threads computing in pure Python: every ${form} stop parks them all; their work goes on after, with right results`, async () => {
      const out = await withProgram('compute.py', [String(n)], async (r) => {
        await waitFor(() => captureText(r.capture).includes('running\n'), 120_000, 'the threads to run');
        for (let i = 0; i < 20; i++) {
          if (form === 'sync') r.p.rt.stopTheWorld({ timeoutMs: DEADLINE_MS });
          else await r.p.rt.stopTheWorldAsync({ timeoutMs: DEADLINE_MS });
          try {
            const states = others(r.p);
            assert.is(states.length, n + 1, 'main() and its threads');
            for (const s of states) assert.is(s.state, 'SUSPENDED', JSON.stringify(s));
          } finally {
            if (form === 'sync') r.p.rt.startTheWorld();
            else await r.p.rt.startTheWorldAsync();
          }
        }
        assert.is(r.p.rt.stats().timeouts, 0);
        assert.not.match(captureText(r.capture), /results/, 'the threads were still computing');
      });
      assert.match(out, /grew after the stops: True\nresults right\n$/);
    });
  }

  test('a thread holding the GIL in a long C call: a stop times out as documented or completes, and a later one completes after the call', async () => {
    const n = 10_000_000;
    const out = await withProgram('longcall.py', [String(n)], async (r) => {
      await waitFor(() => captureText(r.capture).includes('calling\n'), 120_000, 'the long call to begin');
      // inside sum(): no eval-breaker check until it returns, which takes seconds
      const early = await outcome(() => r.p.rt.stopTheWorld({ timeoutMs: 200 }));
      if (early === undefined) {
        for (const s of others(r.p)) assert.is(s.state, 'SUSPENDED', JSON.stringify(s));
        r.p.rt.startTheWorld();
      } else {
        assert.instance(early, StopTimeoutError, String(early));
        assert.ok((early as StopTimeoutError).stragglers.length >= 1, 'the caller is named');
        assert.ok(others(r.p).every((s) => s.state !== 'SUSPENDED' && !s.stopRequested), 'the world runs again');
      }
      console.log(`  the stop during the call ${early === undefined ? 'completed (the call had not begun)' : 'timed out'}`);
      r.p.rt.stopTheWorld({ timeoutMs: 120_000 });
      try {
        for (const s of others(r.p)) assert.is(s.state, 'SUSPENDED', JSON.stringify(s));
      } finally {
        r.p.rt.startTheWorld();
      }
    });
    assert.match(out, new RegExp(`sum ${(n * (n - 1)) / 2} True\nb right True\n$`));
  });
}

test.run();
