// The second engine: runs tests/spidermonkey/driver.js in SpiderMonkey's js102
// shell (Debian's libmozjs-102-dev) under a deadline and turns each of its
// "ok"/"not ok" lines into a result. Outside CI a machine without js102 or
// clang skips; in CI both are installed by .ci/run, so a missing one fails.
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT, IN_CI, buildCEmbedder, hasCommand } from './lib/embed-tools.js';

const DEADLINE_MS = 120_000;
const JS = process.env.JS102 ?? 'js102';
const available = (hasCommand(JS) || IN_CI) && buildCEmbedder();

function runDriver(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(JS, [`${ROOT}tests/spidermonkey/driver.js`, ROOT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

(available ? test : test.skip)('SpiderMonkey (js102): core state machine and the C embedder in both links, with shell workers', async () => {
  const { code, out } = await runDriver();
  const lines = out.split('\n');
  const oks = lines.filter((l) => l.startsWith('ok - '));
  const bad = lines.filter((l) => l.startsWith('not ok - '));
  assert.is(bad.length, 0, bad.join('\n') || out);
  assert.ok(/^done: \d+ passed, 0 failed$/m.test(out), `driver did not finish (exit ${code}):\n${out}`);
  assert.is(oks.length, 6, out);
  assert.is(code, 0);
});

test.run();
