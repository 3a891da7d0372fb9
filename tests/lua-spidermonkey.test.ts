// Lua threads under SpiderMonkey: tests/spidermonkey/lua-threads.js runs a
// script in the js102 shell (lua.c's main on the shell's main thread, one shell
// worker per thread.start). Outside CI a machine without js102 skips.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IN_CI, ROOT, hasCommand } from './lib/embed-tools.js';
import { ensureLuaWasm } from './lib/lua-run.js';

const DEADLINE_MS = 120_000;
const JS = process.env.JS102 ?? 'js102';
const available = (hasCommand(JS) || IN_CI) && ensureLuaWasm();

function runShell(source: string): Promise<{ code: number | null; out: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lua-sm-'));
  const file = path.join(dir, 'script.lua');
  fs.writeFileSync(file, source);
  return new Promise((resolve, reject) => {
    const child = spawn(JS, [`${ROOT}tests/spidermonkey/lua-threads.js`, ROOT, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, out });
    });
  });
}

(available ? test : test.skip)('SpiderMonkey (js102): guarded counters, results and errors through join, GC, hand-off between busy loops', async () => {
  const { code, out } = await runShell(`
    local shared, lk, ts = {n = 0}, thread.lock(), {}
    for k = 1, 3 do
      ts[k] = thread.start(function(k)
        for i = 1, 2000 do lk:acquire(); shared.n = shared.n + 1; lk:release() end
        local s = {}
        for i = 1, 200 do s[#s + 1] = tostring(i) end
        collectgarbage("step")
        print("thread", k, "done")
        return k * 10, #table.concat(s)
      end, k)
    end
    local sum = 0
    for k = 1, 3 do local a, b = ts[k]:join(); sum = sum + a + b end
    local e = thread.start(function() error({code = 7}) end)
    local ok, err = pcall(e.join, e)
    print("counter", shared.n, "sum", sum, "error", ok, type(err) == "table" and err.code)
    -- two loops that never allocate: the main thread gets the GIL back only through drop requests
    local stop, c = false, {0, 0}
    local a = thread.start(function() while not stop do c[1] = c[1] + 1 end end)
    local b = thread.start(function() while not stop do c[2] = c[2] + 1 end end)
    thread.sleep(0.3)
    stop = true
    a:join(); b:join()
    print("both ran", c[1] > 0 and c[2] > 0)`);
  assert.is(code, 0, out);
  const lines = out.trim().split('\n');
  for (let k = 1; k <= 3; k++) assert.ok(lines.includes(`thread\t${k}\tdone`), out);
  assert.ok(lines.includes('counter\t6000\tsum\t1536\terror\tfalse\t7'), out);
  assert.ok(lines.includes('both ran\ttrue'), out);
  assert.is(lines[lines.length - 1], 'status 0', out);
});

test.run();
