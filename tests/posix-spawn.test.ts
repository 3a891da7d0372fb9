// Pipes and processes on the pthread layer (vms/posix/src/pipe.c, spawn.c;
// docs/EMBEDDING.md "Processes and pipes"): tests/posix/spawn.c checks itself
// and prints its steps; this asserts its status, the steps, and that a child's
// inherited stdout lands where the program's own does, after the program's
// line flushed before the spawn.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { posixProgram, runPosix } from './lib/posix-run.js';
import { within } from './lib/helpers.js';

test('pipes, posix_spawn with piped stdin and stdout, exit status, kill, wait, a missing program, a directory', async () => {
  const wasm = posixProgram('spawn');
  if (!wasm) return;
  await within(120_000, async () => {
    const r = await runPosix(wasm);
    assert.is(r.status, 0, r.out);
    const steps = r.out.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.slice(3));
    assert.equal(steps, ['pipe', 'spawn-stdout', 'spawn-stdin', 'status-kill', 'wait-any', 'missing-cwd'], r.out);
    assert.ok(r.out.endsWith('ok missing-cwd\nfrom the child\ndone\n'), r.out);
  }, 'spawn.c');
});

test.run();
