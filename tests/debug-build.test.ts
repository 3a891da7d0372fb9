// The state-machine, stop-the-world, seqlock and stop-hook suites once more, against
// build/core.debug.wasm: its asserts (state transitions, exclusion ownership,
// seqlock parity, lock owner/depth) are stripped from the release build, so
// only this run checks them. Each suite runs in its own process, as run.ts does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SUITES = ['transitions.test.js', 'stw.test.js', 'seqlock.test.js', 'stop-hooks.test.js'];
const DEADLINE_MS = 150_000;

function runSuite(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL(file, import.meta.url))], {
      env: { ...process.env, WTC_CORE_BUILD: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

for (const file of SUITES) {
  test(`${file} passes against the debug build (asserts on)`, async () => {
    const { code, out } = await runSuite(file);
    const clean = out.replace(/\x1b\[[0-9;]*m/g, '');
    const total = Number(/Total:\s+(\d+)/.exec(clean)?.[1] ?? NaN);
    const passed = Number(/Passed:\s+(\d+)/.exec(clean)?.[1] ?? NaN);
    // The child's own summary is reported in words, so run.ts counts only this file's.
    const report = clean.replace(/^\s*(Total|Passed|Skipped|Duration):.*$/gm, '');
    assert.ok(total > 0 && passed === total && code === 0, `${file} with WTC_CORE_BUILD=debug: ${passed}/${total}, exit ${code}\n${report}`);
  });
}

test.run();
