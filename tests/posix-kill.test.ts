// kill() of a pthread-layer process from its host (vms/posix/host/process.ts):
// tests/posix/stop.c in its host mode, its threads blocked in a mutex, a
// condition variable, a semaphore and a join, one spinning, one sleeping, main
// in a timed condition wait, is ended at once with the status given (137, as
// after SIGKILL, by default); a status outside 0…255 is refused before
// anything is done.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { posixProgram, runPosix } from './lib/posix-run.js';
import { waitFor, within } from './lib/helpers.js';
import { captureText } from '../vms/posix/host/capture.js';

test('kill() ends a process whose threads block and spin: status 137; a bad status is refused first', async () => {
  const wasm = posixProgram('stop');
  if (!wasm) return;
  // without the kill the program waits 60 s for the host, then fails its own deadline (a status other than 137)
  const r = await within(90_000, () => runPosix(wasm, ['host'], async (p, capture) => {
    await waitFor(() => /word \d+\n/.test(captureText(capture)), 60_000, 'the program to block its threads');
    for (const bad of [256, -1, 1.5]) {
      const e = (() => { try { p.kill(bad); } catch (x) { return x as { code?: string }; } return undefined; })();
      assert.is(e?.code, 'E_ARG', `kill(${bad})`);
    }
    p.kill();
  }), 'the killed process');
  assert.is(r.status, 137, r.out);
});

test('kill(code) gives that status', async () => {
  const wasm = posixProgram('stop');
  if (!wasm) return;
  const r = await within(90_000, () => runPosix(wasm, ['host'], async (p, capture) => {
    await waitFor(() => /word \d+\n/.test(captureText(capture)), 60_000, 'the program to block its threads');
    p.kill(143);
  }), 'the killed process');
  assert.is(r.status, 143, r.out);
});

test.run();
