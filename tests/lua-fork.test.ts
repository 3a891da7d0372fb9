// os.fork, os.waitpid, os.exit and os.getpid from Lua code (vms/lua/src/lfork.c
// on the pthread layer's fork; docs/LUA.md "fork"). Each script runs as the
// wasm-threads-lua command in its own process, so a child's output — on the
// file descriptors it inherits — is captured with its parent's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LUA_CLI, LUA_WASM, ensureLuaWasm, hasNativeLua, runLua, runNativeLua, type LuaRun } from './lib/lua-run.js';
import { childProcesses, within } from './lib/helpers.js';
import { startNodeLuaProcess } from '../vms/lua/host/node-process.js';

const HAVE_LUA = ensureLuaWasm();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lua-fork-'));

function script(source: string): string {
  const file = path.join(dir, `f${Math.random().toString(36).slice(2)}.lua`);
  fs.writeFileSync(file, source);
  return file;
}

async function run(source: string, timeoutMs = 60_000, env?: Record<string, string>): Promise<LuaRun> {
  return runLua([script(source)], { cwd: dir, timeoutMs, env });
}

/** The fork-anywhere build (scripts/build-lua.mjs builds it beside lua.wasm), picked as a user picks it. */
const HAVE_ANYWHERE = HAVE_LUA && fs.existsSync(LUA_WASM.replace(/\.wasm$/, '-fork-anywhere.wasm'));
const ANYWHERE = { WASM_THREADS_LUA_FORK: 'anywhere' };
const anywhereTest = (name: string, ms: number, fn: () => Promise<void>): void => {
  test(name, () => (HAVE_ANYWHERE ? within(ms, fn) : undefined));
};

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

const luaTest = (name: string, ms: number, fn: () => Promise<void>): void => {
  test(name, () => (HAVE_LUA ? within(ms, fn) : undefined));
};

luaTest('a Lua process that does not fork does no fork work: no fork server, no child', 60_000, async () => {
  // lua.c's main runs on a worker for at least a second of wall time, then exits by itself
  const p = await startNodeLuaProcess(['lua', '-e', 'local t = os.time() repeat until os.time() - t >= 2']);
  await Promise.all(p.rt.workers.map((w) => w.registered()));
  assert.is(p.rt.forkStats().server, 'none');
  assert.equal(childProcesses(), []);
  assert.is(await p.status, 0);
});

luaTest('a fork loop of 100: each child continues from the loop with its own i and exits with it', 240_000, async () => {
  const r = await run(`
    local got = {}
    for i = 1, 100 do
      local pid = os.fork()
      if pid == 0 then os.exit(i) end
      assert(math.type(pid) == "integer" and pid > 0, tostring(pid))
      got[#got + 1] = os.waitpid(pid)
    end
    local bad = 0
    for i = 1, 100 do if got[i] ~= i then bad = bad + 1 end end
    print("forks", #got, "wrong", bad)`, 200_000);
  assert.is(r.stderr, '');
  assert.is(r.stdout, 'forks\t100\twrong\t0\n');
  assert.is(r.status, 0);
});

luaTest('a fork child starts threads of its own (the pthread layer\'s), and a thread forked from ends the child when its function returns', 120_000, async () => {
  const r = await run(`
    local pid = os.fork()
    if pid == 0 then
      local t = thread.start(function(x) return x + 1 end, 41)
      local g = os.fork()
      if g == 0 then os.exit(thread.start(function() return 3 end):join()) end
      os.exit(t:join() + os.waitpid(g))
    end
    print("child", os.waitpid(pid))
    local forker = thread.start(function()
      local p = os.fork()
      if p == 0 then print("in the child's thread") return end
      return p
    end)
    print("thread's child", os.waitpid(forker:join()))`);
  assert.is(r.stderr, '');
  assert.equal(lines(r.stdout).sort(), ['child\t45', 'in the child\'s thread', 'thread\'s child\t0'].sort());
  assert.is(r.status, 0);
});

luaTest('children are recycled (docs/FORK.md): each leaves a file open, its carrier runs the next child all the same', 120_000, async () => {
  const out = path.join(dir, 'left-open.txt');
  const r = await run(`
    local pids, seen = {}, {}
    for i = 1, 12 do
      local pid = os.fork()
      if pid == 0 then
        local f = assert(io.open(${JSON.stringify(out)}, "a"))
        f:write(i, "\\n") f:flush()
        os.exit(i)
      end
      assert(os.waitpid(pid) == i)
      if not seen[pid] then seen[pid] = true; pids[#pids + 1] = pid end
    end
    print("processes", #pids)`);
  assert.is(r.stderr, '');
  assert.is(r.status, 0);
  // the WASI layer closes what a child left open, so its carrier is clean: far fewer processes than children
  const processes = Number(/processes\t(\d+)/.exec(r.stdout)?.[1]);
  assert.ok(processes >= 1 && processes <= 6, r.stdout);
  assert.equal(lines(fs.readFileSync(out, 'utf8')), Array.from({ length: 12 }, (_, i) => String(i + 1)));
});

luaTest('the child sees the parent\'s tables, upvalues and globals; neither sees the other\'s later writes', 60_000, async () => {
  const r = await run(`
    local t = { n = 41, list = { "a", "b", "c" }, nested = { deep = { x = 1.5 } } }
    G = "global"
    local up = 10
    local function bump() up = up + 1; return up end
    local pid = os.fork()
    if pid == 0 then
      t.n = t.n + 1
      print("child", t.n, table.concat(t.list, ","), t.nested.deep.x, G, bump(), bump())
      os.exit(0)
    end
    assert(os.waitpid(pid) == 0)
    print("parent", t.n, table.concat(t.list, ","), t.nested.deep.x, G, bump())`);
  assert.is(r.stderr, '');
  assert.equal(lines(r.stdout), ['child\t42\ta,b,c\t1.5\tglobal\t11\t12', 'parent\t41\ta,b,c\t1.5\tglobal\t11']);
  assert.is(r.status, 0);
});

luaTest('fork inside pcall, xpcall, nested calls, coroutines (wrap and resume, nested) and a Lua-called metamethod', 90_000, async () => {
  const r = await run(`
    local function child_exit(code, pid) if pid == 0 then os.exit(code) end return pid end
    local function deep(n) if n == 0 then return os.fork() end return deep(n - 1) end
    local out = {}
    local ok, pid = pcall(function() return child_exit(11, os.fork()) end)
    out[#out + 1] = ("pcall %s %d"):format(ok, os.waitpid(pid))
    ok, pid = xpcall(function() return child_exit(12, deep(20)) end, debug.traceback)
    out[#out + 1] = ("xpcall+depth20 %s %d"):format(ok, os.waitpid(pid))
    local co = coroutine.wrap(function(a)
      local pid = child_exit(13, os.fork())
      local b = coroutine.yield(pid, a)
      return "after " .. b
    end)
    local p, a = co("arg")
    out[#out + 1] = ("wrap %d %s %s"):format(os.waitpid(p), a, co("resumed"))
    local outer = coroutine.create(function()
      local inner = coroutine.create(function()
        local _, pid = pcall(os.fork)
        coroutine.yield(child_exit(14, pid))
      end)
      local _, pid = coroutine.resume(inner)
      coroutine.yield(pid, coroutine.status(inner))
    end)
    local _, p2, st = coroutine.resume(outer)
    out[#out + 1] = ("nested %d %s %s"):format(os.waitpid(p2), st, coroutine.status(outer))
    local mt = setmetatable({}, { __index = function(_, k) return child_exit(15, os.fork()) end })
    out[#out + 1] = ("__index %d"):format(os.waitpid(mt.anything))
    print(table.concat(out, "\\n"))`);
  assert.is(r.stderr, '');
  assert.equal(lines(r.stdout), [
    'pcall true 11', 'xpcall+depth20 true 12', 'wrap 13 arg after resumed', 'nested 14 suspended suspended', '__index 15',
  ]);
  assert.is(r.status, 0);
});

luaTest('default build: under a C frame (gsub, sort, a metamethod called from C, require) os.fork raises an error naming the fork-anywhere build', 60_000, async () => {
  const mod = path.join(dir, 'forkmod.lua');
  fs.writeFileSync(mod, 'return os.fork()\n');
  const r = await run(`
    package.path = ${JSON.stringify(path.join(dir, '?.lua'))}
    local cases = {
      gsub = function() return ("x"):gsub("x", function() return tostring(os.fork()) end) end,
      sort = function() table.sort({ 3, 2, 1 }, function(a, b) os.fork(); return a < b end) end,
      tostring = function() return tostring(setmetatable({}, { __tostring = function() return tostring(os.fork()) end })) end,
      require = function() return require("forkmod") end,
    }
    for _, name in ipairs({ "gsub", "sort", "tostring", "require" }) do
      local ok, err = pcall(cases[name])
      print(name, ok, (tostring(err):match("os%.fork: cannot fork inside a callback of a C function")), (tostring(err):match("WASM_THREADS_LUA_FORK=anywhere")))
    end
    -- and the process still forks afterwards
    local pid = os.fork()
    if pid == 0 then os.exit(3) end
    print("then", os.waitpid(pid))`);
  assert.is(r.stderr, '');
  const want = 'os.fork: cannot fork inside a callback of a C function';
  assert.equal(lines(r.stdout), [
    ...['gsub', 'sort', 'tostring', 'require'].map((n) => `${n}\tfalse\t${want}\tWASM_THREADS_LUA_FORK=anywhere`), 'then\t3',
  ]);
  assert.is(r.status, 0);
});

luaTest('exit statuses: end of script 0, os.exit(n), os.exit(true/false), an error 1 (reported as lua.c does), a nested child', 90_000, async () => {
  const r = await run(`
    local function fork(body) local pid = os.fork(); if pid == 0 then body(); return nil end; return pid end
    local cases = {
      { "end", function() end },
      { "exit(42)", function() os.exit(42) end },
      { "exit(true)", function() os.exit(true) end },
      { "exit(false)", function() os.exit(false) end },
      { "error", function() error("boom in the child") end },
      { "grandchild", function()
          local g = os.fork()
          if g == 0 then os.exit(6) end
          os.exit(os.waitpid(g) + 1)
        end },
    }
    for _, c in ipairs(cases) do
      local pid = fork(c[2])
      if not pid then return end -- a child whose body returned: the script ends here for it
      print(c[1], os.waitpid(pid))
    end`);
  assert.equal(lines(r.stdout), ['end\t0', 'exit(42)\t42', 'exit(true)\t0', 'exit(false)\t1', 'error\t1', 'grandchild\t7']);
  assert.match(r.stderr, /^lua: [^\n]*: boom in the child\nstack traceback:\n\t\[C\]: in function 'error'\n/);
  assert.is(r.status, 0);
});

luaTest('waitpid: "nohang" gives nil while the child runs; a killed child is 128 + the signal; os.getpid is the pid the parent got', 60_000, async () => {
  const file = script(`
    local pid = os.fork()
    if pid == 0 then
      print("child", os.getpid())
      while true do end -- until the test kills it
    end
    print("parent", pid, os.waitpid(pid, "nohang"))
    print("status", os.waitpid(pid))
    print("again", os.waitpid(pid))
    print("no child", os.waitpid(1))
    print("pid 0", os.waitpid(0))`);
  const child = spawn(process.execPath, [LUA_CLI, file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let killed = false;
  child.stderr.on('data', (d: Buffer) => { err += d; });
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    const m = /^child\t(\d+)\n/m.exec(out);
    if (m && /^parent\t/m.test(out) && !killed) {
      killed = true;
      process.kill(Number(m[1]), 'SIGKILL');
    }
  });
  const status = await done;
  const childPid = /^child\t(\d+)$/m.exec(out)?.[1];
  assert.ok(childPid, out + err);
  assert.ok(lines(out).includes(`parent\t${childPid}\tnil`), out);
  assert.ok(lines(out).includes('status\t137'), out);
  // ECHILD as WASI numbers it (12), the one errno space of lua.wasm, whichever path fails
  assert.ok(lines(out).some((l) => /^again\tnil\twaitpid: .+\t12$/.test(l)), out);
  assert.ok(lines(out).some((l) => /^no child\tnil\twaitpid: .+\t12$/.test(l)), out);
  assert.ok(lines(out).some((l) => /^pid 0\tnil\twaitpid: .+\t12$/.test(l)), out); // refused in C, not by the host: the same number
  assert.is(err, '');
  assert.is(status, 0);
});

luaTest('fork from a thread while other threads run: the child has only the forking thread', 90_000, async () => {
  const r = await run(`
    local shared = { tag = "parent-table" }
    local stop = false
    local spinners, spinning = {}, {}
    for k = 1, 2 do spinners[k] = thread.start(function() spinning[k] = true; local i = 0; while not stop do i = i + 1 end; return i end) end
    -- the forks happen while both spin
    while not (spinning[1] and spinning[2]) do thread.sleep(0.001) end
    local forker = thread.start(function()
      local pid = os.fork()
      if pid == 0 then
        print("child of thread", shared.tag, thread.id() ~= nil)
        os.exit(5)
      end
      return pid
    end)
    local pid = forker:join()
    print("from thread", os.waitpid(pid))
    local mine = os.fork()
    if mine == 0 then os.exit(6) end
    print("from main while spinning", os.waitpid(mine))
    stop = true
    for k = 1, 2 do assert(spinners[k]:join() > 0) end
    print("spinners joined")`);
  assert.is(r.stderr, '');
  assert.equal(lines(r.stdout).sort(), ['child of thread\tparent-table\ttrue', 'from main while spinning\t6', 'from thread\t5', 'spinners joined'].sort());
  assert.is(r.status, 0);
});

anywhereTest('fork-anywhere build: a fork under gsub, sort, a metamethod called from C, __gc and require continues the C call in both', 120_000, async () => {
  fs.writeFileSync(path.join(dir, 'forkmod2.lua'), 'local pid = os.fork()\nreturn { pid = pid, child = pid == 0 }\n');
  const r = await run(`
    package.path = ${JSON.stringify(path.join(dir, '?.lua'))}
    local out = {}
    local function note(s) out[#out + 1] = s end
    -- gsub: the child goes on replacing after the fork and returns gsub's whole result
    local pid
    local s = ("abc"):gsub("%w", function(c)
      if c == "b" then pid = os.fork(); return pid == 0 and "[child]" or "[parent]" end
      return c:upper()
    end)
    if pid == 0 then print("gsub child: " .. s); os.exit(21) end
    note("gsub parent: " .. s .. " " .. os.waitpid(pid))
    -- table.sort: the comparator forks once; both sort to the end
    local t, forked = { 5, 3, 9, 1, 7 }, nil
    table.sort(t, function(a, b) if not forked then forked = os.fork() end return a < b end)
    if forked == 0 then print("sort child: " .. table.concat(t, ",")); os.exit(22) end
    note("sort parent: " .. table.concat(t, ",") .. " " .. os.waitpid(forked))
    -- __tostring, called by tostring (C) through luaL_tolstring
    local mpid
    local str = tostring(setmetatable({}, { __tostring = function() mpid = os.fork(); return mpid == 0 and "child-obj" or "parent-obj" end }))
    if mpid == 0 then print("tostring child: " .. str); os.exit(23) end
    note("tostring parent: " .. str .. " " .. os.waitpid(mpid))
    -- __gc, run by collectgarbage's full cycle
    local gpid
    setmetatable({}, { __gc = function() gpid = os.fork() end })
    collectgarbage(); collectgarbage()
    if gpid == 0 then print("gc child"); os.exit(24) end
    note("gc parent: " .. os.waitpid(gpid))
    -- require: the module's top level forks; both get the module from require
    local m = require("forkmod2")
    if m.child then print("require child: " .. tostring(package.loaded.forkmod2 == m)); os.exit(25) end
    note("require parent: " .. tostring(package.loaded.forkmod2 == m) .. " " .. os.waitpid(m.pid))
    print(table.concat(out, "\\n"))`, 100_000, ANYWHERE);
  assert.is(r.stderr, '');
  assert.equal(lines(r.stdout).sort(), [
    'gsub child: A[child]C', 'sort child: 1,3,5,7,9', 'tostring child: child-obj', 'gc child', 'require child: true',
    'gsub parent: A[parent]C 21', 'sort parent: 1,3,5,7,9 22', 'tostring parent: parent-obj 23', 'gc parent: 24', 'require parent: true 25',
  ].sort());
  assert.is(r.status, 0);
});

anywhereTest('fork-anywhere build: forks under callbacks nest (a grandchild), run from a thread while another spins, and the rest still forks', 120_000, async () => {
  const r = await run(`
    local function under_gsub(f) local v; ("x"):gsub("x", function() v = f() end); return v end
    -- a child forked under sort forks again under gsub
    local g
    table.sort({ 2, 1 }, function(a, b)
      if g == nil then
        g = os.fork()
        if g == 0 then
          local gg = under_gsub(os.fork)
          if gg == 0 then os.exit(3) end
          os.exit(os.waitpid(gg) + 1)
        end
      end
      return a < b
    end)
    print("nested", os.waitpid(g))
    -- from a thread, under a callback, while another thread spins
    local stop, spinning = false, false
    local spinner = thread.start(function() spinning = true; local i = 0; while not stop do i = i + 1 end; return i end)
    while not spinning do thread.sleep(0.001) end
    local forker = thread.start(function()
      local pid = under_gsub(os.fork)
      if pid == 0 then print("thread child"); os.exit(8) end
      return pid
    end)
    print("from thread", os.waitpid(forker:join()))
    stop = true
    assert(spinner:join() > 0)
    -- and a plain fork in this build
    local pid = os.fork()
    if pid == 0 then os.exit(9) end
    print("plain", os.waitpid(pid))`, 100_000, ANYWHERE);
  assert.is(r.stderr, '');
  assert.equal(lines(r.stdout).sort(), ['from thread\t8', 'nested\t4', 'plain\t9', 'thread child'].sort());
  assert.is(r.status, 0);
});

test('the fork-aware coroutine functions behave as Lua\'s own (same output as native lua5.4)', () => (HAVE_LUA && hasNativeLua() ? within(60_000, async () => {
  const file = script(`
    print(coroutine.isyieldable(), select(2, coroutine.running()), coroutine.status(coroutine.running()))
    print(pcall(coroutine.yield, 1))
    print(coroutine.close and pcall(coroutine.close, coroutine.running()))
    local co = coroutine.create(function(a, b)
      print("in", a, b, coroutine.isyieldable(), select(2, coroutine.running()))
      local c = coroutine.yield(a + b)
      error({ code = c })
    end)
    print(coroutine.resume(co, 1, 2))
    local ok, e = coroutine.resume(co, 7)
    print(ok, type(e), e.code, coroutine.status(co), coroutine.resume(co))
    local w = coroutine.wrap(function() error("wrapped") end)
    print(pcall(w))
    local w2 = coroutine.wrap(function() return 1 end); w2()
    print(pcall(w2))
    print(pcall(coroutine.resume, 42))
    print(select("#", coroutine.resume(coroutine.create(function(...) return ... end), 1, nil, 3, nil)))
    local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
    print(gen(), gen(), gen())
  `);
  const [mine, native] = await Promise.all([runLua([file], { cwd: dir }), runNativeLua([file], { cwd: dir })]);
  assert.is(mine.stderr, native.stderr);
  assert.is(mine.stdout, native.stdout);
  assert.is(mine.status, native.status);
}) : undefined));

test.run();
