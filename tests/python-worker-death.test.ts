// A Python thread's worker terminated while that thread holds the GIL: with
// endOnWorkerDeath, as the wasm-threads-python command starts it, the process
// ends with POSIX_WORKER_DIED_STATUS (134, as after abort()) and says why on
// stderr, where otherwise the main thread would wait for the GIL, or for the
// thread's lock, forever (docs/PYTHON.md "Threads").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNodePosixProcess } from '../vms/posix/host/node-process.js';
import { POSIX_WORKER_DIED_STATUS } from '../vms/posix/host/process.js';
import { captureText, newCapture } from '../vms/posix/host/capture.js';
import { waitFor, within } from './lib/deadline.js';
import { PYTHON_EXECUTABLE, PYTHON_WASM, ensurePythonWasm } from './lib/python-run.js';

// The switch interval is 1000 s: once the thread has printed its line and the main thread waits in join() (the GIL
// released), nobody asks the spinning thread for the GIL, so it holds it until its worker dies.
const PROGRAM = [
  'import sys, threading',
  'sys.setswitchinterval(1000)',
  'def spin():',
  '    print("spinning", flush=True)',
  '    while True: pass',
  't = threading.Thread(target=spin)',
  't.start()',
  't.join()',
  'print("not reached")',
].join('\n');

if (!ensurePythonWasm()) {
  test('python worker death (skipped: clang-19 missing outside CI)', () => {});
} else {
  test('a worker terminated while its thread holds the GIL ends the process with the documented status', async () => {
    const capture = newCapture();
    const p = await startNodePosixProcess(PYTHON_WASM, [PYTHON_EXECUTABLE, '-c', PROGRAM], { capture, env: { PYTHONDONTWRITEBYTECODE: '1' }, endOnWorkerDeath: true });
    await waitFor(() => captureText(capture).includes('spinning\n'), 120_000, 'the thread to start spinning');
    const workers = p.rt.workers;
    assert.is(workers.length, 2, 'the main thread and the spinning thread');
    await workers[1].terminate();
    const status = await within(30_000, () => p.status, 'the process to end');
    assert.is(status, POSIX_WORKER_DIED_STATUS);
    const out = captureText(capture);
    assert.match(out, /posix: a thread's worker died: /);
    assert.not.match(out, /not reached/);
  });
}

test.run();
