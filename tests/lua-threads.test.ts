// The `thread` library on build/lua.wasm: threads on workers, one global
// state, the GIL (vms/lua/src/gil.c, lthread.c; docs/LUA.md "Threads").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNodeLuaProcess } from '../vms/lua/host/node-process.js';
import { captureLength, captureText, newCapture } from '../vms/posix/host/capture.js';
import { stopLuaWorld, type LuaProcess } from '../vms/lua/host/threads.js';
import { ensureLuaWasm } from './lib/lua-run.js';
import { STATE_MASK, ST_DETACHED } from '../host/layout.js';
import { waitFor, within } from './lib/helpers.js';

const HAVE_LUA = ensureLuaWasm();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lua-threads-'));

interface Run { status: number; out: string }

/** Runs `source` as a script; `during` may drive the host while it runs. */
async function run(source: string, during?: (p: LuaProcess, capture: SharedArrayBuffer) => Promise<void>): Promise<Run> {
  const file = path.join(dir, `t${Math.random().toString(36).slice(2)}.lua`);
  fs.writeFileSync(file, source);
  const capture = newCapture();
  const p = await startNodeLuaProcess(['lua', file], { capture });
  if (during) await during(p, capture);
  const status = await p.status;
  return { status, out: captureText(capture) };
}

const luaTest = (name: string, ms: number, fn: () => Promise<void>): void => {
  test(name, () => (HAVE_LUA ? within(ms, fn) : undefined));
};

luaTest('lock-guarded counters are exact and tables are shared', 60_000, async () => {
  const r = await run(`
    local shared, lk, N, W = {n = 0, rows = {}}, thread.lock(), 5000, 4
    local ts = {}
    for k = 1, W do
      ts[k] = thread.start(function(k)
        local row = {}
        shared.rows[k] = row
        for i = 1, N do
          lk:acquire(); shared.n = shared.n + 1; lk:release()
          row[i] = k * i
        end
        return k, #row
      end, k)
    end
    for k = 1, W do local a, b = ts[k]:join(); assert(a == k and b == N) end
    local sum = 0
    for k = 1, W do for i = 1, N do sum = sum + shared.rows[k][i] end end
    print(shared.n, sum)`);
  assert.is(r.status, 0, r.out);
  const n = 5000, w = 4;
  assert.is(r.out.trim(), `${w * n}\t${(w * (w + 1) / 2) * (n * (n + 1) / 2)}`);
});

luaTest('threads started one after another on the workers earlier threads left: each its own stack, files, errors and exit', 120_000, async () => {
  // a finished thread's worker runs the next with the same lua.wasm instance (vms/posix/host/instance-keeper.ts)
  const out = path.join(dir, 'reuse');
  const r = await run(`
    local nested = "return " .. string.rep("(", 150) .. "7" .. string.rep(")", 150)
    local ids, failed = {}, 0
    for i = 1, 120 do
      local t = thread.start(function(i)
        if i % 40 == 0 then error({i = i}) end
        local f = assert(io.open("${out}-" .. i, "w"))
        f:write(i) f:close()
        return thread.id(), load(nested)()
      end, i)
      local ok, id, v = pcall(t.join, t)
      if ok then
        assert(v == 7 and not ids[id], "thread " .. i)
        ids[id] = true
        local f = assert(io.open("${out}-" .. i)) assert(f:read("a") == tostring(i)) f:close()
      else
        assert(id.i == i) failed = failed + 1
      end
    end
    print(failed)
    thread.start(function() os.exit(5) end):join()`);
  assert.is(r.status, 5, r.out);
  assert.is(r.out.trim(), '3');
});

luaTest('GC under threads: collectgarbage from several threads, every object intact', 60_000, async () => {
  const r = await run(`
    local ts = {}
    for k = 1, 3 do
      ts[k] = thread.start(function(k)
        local keep, total = {}, 0
        for i = 1, 3000 do
          local s = string.rep(tostring(k), i % 50 + 1) .. i
          keep[i % 100 + 1] = {s = s, t = {i, k}}
          if i % 500 == 0 then collectgarbage(k == 1 and "collect" or "step") end
          total = total + #s
        end
        for j = 1, 100 do local e = keep[j]; assert(e.t[2] == k and e.s:sub(1, 1) == tostring(k)) end
        return total, collectgarbage("count") > 0
      end, k)
    end
    local sums = {}
    for k = 1, 3 do local total, ok = ts[k]:join(); assert(ok); sums[k] = total end
    collectgarbage()
    print(sums[1], sums[2], sums[3])`);
  assert.is(r.status, 0, r.out);
  // every thread builds the same lengths: string.rep(k, i % 50 + 1) .. i
  let expect = 0;
  for (let i = 1; i <= 3000; i++) expect += (i % 50) + 1 + String(i).length;
  assert.is(r.out.trim(), `${expect}\t${expect}\t${expect}`);
});

luaTest('busy threads hand the GIL over while their call stacks grow and shrink and the GC frees them', 60_000, async () => {
  const r = await run(`
    local function rec(n) if n == 0 then return 0 end return 1 + rec(n - 1) end
    local ts = {}
    for k = 1, 3 do
      ts[k] = thread.start(function(k)
        local sum = 0
        for i = 1, 1500 do
          sum = sum + rec(i % 180)                      -- CallInfos allocated, then freed by the GC
          local co = coroutine.wrap(function() coroutine.yield(rec(40)) end)
          sum = sum + co()                              -- coroutines made and dropped: luai_userstatefree
          if i % 150 == 0 then collectgarbage() end
        end
        return sum
      end, k)
    end
    local want = 0
    for i = 1, 1500 do want = want + i % 180 + 40 end
    for k = 1, 3 do assert(ts[k]:join() == want) end
    print("ok", want)`);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /^ok\t\d+\n$/);
});

luaTest('lock:acquire(timeout) is false while another thread holds the lock, true after', 60_000, async () => {
  const r = await run(`
    local lk, held, go = thread.lock(), thread.lock(), thread.lock()
    go:acquire()
    local t = thread.start(function()
      lk:acquire(); held:acquire()   -- held: the main thread sees the lock taken
      go:acquire()                   -- until the main thread says
      lk:release(); go:release(); held:release()
    end)
    while not held:acquire(0) do thread.sleep(0.001) end
    held:release()
    while lk:acquire(0) do lk:release(); thread.sleep(0.001) end  -- the thread holds lk now
    print("try", lk:acquire(0), "timed", lk:acquire(0.05))
    go:release()
    print("after", lk:acquire(5))
    lk:release()
    t:join()
    print("relock", pcall(function() lk:acquire(); lk:acquire() end))
    print("not owner", pcall(function() local x = thread.lock(); x:release() end))
    for i = 1, 1000 do local x = thread.lock(); x:acquire(); x:release() end  -- more than the core's 256 locks
    print("many locks")`);
  assert.is(r.status, 0, r.out);
  const lines = r.out.trim().split('\n');
  assert.is(lines[0], 'try\tfalse\ttimed\tfalse');
  assert.is(lines[1], 'after\ttrue');
  assert.match(lines[2], /^relock\tfalse\t.*already holds the lock/);
  assert.match(lines[3], /^not owner\tfalse\t.*not held by this thread/);
  assert.is(lines[4], 'many locks');
});

luaTest('join returns the results or re-raises the error value itself', 60_000, async () => {
  const r = await run(`
    local E = setmetatable({}, {__tostring = function() return "E" end})
    local a = thread.start(function(...) return select('#', ...), ... end, 1, nil, "x")
    print(a:join())
    local b = thread.start(function() error(E) end)
    local ok, e = pcall(b.join, b)
    print(ok, e == E)
    local c = thread.start(function() local t = nil; return t.x end)
    print(pcall(c.join, c))
    print(pcall(c.join, c))
    print(tostring(a):match("^thread %d+$") ~= nil, thread.id())`);
  assert.is(r.status, 0, r.out);
  const lines = r.out.trim().split('\n');
  assert.is(lines[0], '3\t1\tnil\tx');
  assert.is(lines[1], 'false\ttrue');
  assert.match(lines[2], /^false\t.*attempt to index a nil value/);
  assert.match(lines[3], /^false\t.*already joined/);
  assert.is(lines[4], 'true\t1');
});

luaTest('threads start threads; the process waits for unjoined threads, and coroutines move between threads', 60_000, async () => {
  const r = await run(`
    local inner = thread.start(function()
      local t = thread.start(function(x) return x * 2 end, 21)
      return t:join()
    end)
    print("nested", inner:join())
    local co = coroutine.create(function(a) local b = coroutine.yield(a + 1); return b * 10 end)
    print("resume here", coroutine.resume(co, 1))
    print("resume there", thread.start(function() return coroutine.resume(co, 5) end):join())
    thread.start(function() thread.sleep(0.05); print("late thread finished") end)
    print("main chunk ends")`);
  assert.is(r.status, 0, r.out);
  assert.is(r.out, 'nested\t42\nresume here\ttrue\t2\nresume there\ttrue\t50\nmain chunk ends\nlate thread finished\n');
});

luaTest('many threads printing: no line is ever interleaved with another', 60_000, async () => {
  const W = 6, N = 300;
  const r = await run(`
    local ts = {}
    for k = 1, ${W} do
      ts[k] = thread.start(function(k)
        for i = 1, ${N} do print("thread", k, "line", i, string.rep(string.char(96 + k), 40)) end
      end, k)
    end
    for k = 1, ${W} do ts[k]:join() end`);
  assert.is(r.status, 0, r.out);
  const lines = r.out.split('\n').filter((l) => l !== '');
  assert.is(lines.length, W * N);
  const next = new Array(W + 1).fill(1);
  for (const line of lines) {
    const m = /^thread\t(\d+)\tline\t(\d+)\t([a-z]{40})$/.exec(line);
    assert.ok(m, `a torn line: ${JSON.stringify(line)}`);
    const k = Number(m[1]);
    assert.is(Number(m[2]), next[k]++, 'each thread\'s lines in order');
    assert.is(m[3], String.fromCharCode(96 + k).repeat(40));
  }
});

luaTest('a worker terminated while holding the GIL ends the process with status 70 and says why', 60_000, async () => {
  const r = await run(`
    local t = thread.start(function() io.stderr:write("spinning\\n"); while true do end end)
    t:join()
    print("not reached")`, async (p, capture) => {
    await waitFor(() => captureText(capture).includes('spinning'), 20_000, 'the thread to spin');
    const worker = p.rt.workers[p.rt.workers.length - 1]; // the command's job first, then the thread's
    await worker.terminate();
  });
  assert.is(r.status, 70, r.out);
  assert.match(r.out, /died holding the interpreter lock/);
  assert.not.match(r.out, /not reached/);
});

// os.exit keeps the GIL to the end: the others then find its owner gone, which is an orderly exit, not a death.
const EXITS: Array<[string, string, number]> = [
  ['a thread just started', 'thread.start(function() thread.sleep(10) end) os.exit(3)', 3],
  ['a thread sleeping', 'thread.start(function() thread.sleep(10) end) thread.sleep(0.05) os.exit(3)', 3],
  ['a thread looping', 'thread.start(function() while true do end end) thread.sleep(0.05) os.exit(4)', 4],
  ['a thread blocked on a lock', 'local l = thread.lock() l:acquire() thread.start(function() l:acquire() end) thread.sleep(0.05) os.exit(5)', 5],
  ['a thread blocked in join', 'thread.start(function() thread.start(function() thread.sleep(10) end):join() end) thread.sleep(0.05) os.exit(6)', 6],
  ['the main thread in join, a thread exiting', 'thread.start(function() os.exit(7) end):join() print("not reached")', 7],
];
for (const [name, source, status] of EXITS) {
  luaTest(`os.exit with ${name}: the status, and not a word on stderr`, 60_000, async () => {
    for (let i = 0; i < 2; i++) assert.equal(await run(source), { status, out: '' }, `run ${i + 1}`);
  });
}

luaTest('a worker terminated while waiting (GIL released): join raises, the process goes on', 60_000, async () => {
  const r = await run(`
    local t = thread.start(function() io.stderr:write("sleeping\\n"); thread.sleep(600) end)
    print(pcall(t.join, t))
    print("still here", thread.start(function() return 42 end):join())`, async (p, capture) => {
    // the thread's worker (the command's is first); after its write (GIL held, attached) it is detached only in
    // thread.sleep's wait, with the GIL released
    const sleeper = () => p.rt.workers[p.rt.workers.length - 1];
    await waitFor(() => captureText(capture).includes('sleeping') && p.rt.workers.length === 2 && sleeper().handle > 0
      && (p.rt.core.thread_state(sleeper().handle) & STATE_MASK) === ST_DETACHED, 20_000, 'the thread to sleep');
    await sleeper().terminate();
  });
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /false\t.*thread \d+ was terminated before it finished/);
  assert.match(r.out, /still here\t42/);
});

luaTest('stop-the-world with Lua threads running: every stop succeeds and nothing moves while stopped', 90_000, async () => {
  const r = await run(`
    local flag = thread.lock()
    flag:acquire()
    local ts = {
      thread.start(function() local c = 0; while not flag:acquire(0) do c = c + 1 end; flag:release() end),
      thread.start(function()
        local i = 0
        while not flag:acquire(0) do
          i = i + 1
          if i % 2000 == 0 then io.stderr:write(".") end
          local t = {i, tostring(i)}   -- allocation: checkGC safe points
        end
        flag:release()
      end),
    }
    io.stderr:write("running\\n")
    local f = io.open("${path.join(dir, 'stw-release')}", "r")
    while not f do thread.sleep(0.005); f = io.open("${path.join(dir, 'stw-release')}", "r") end
    f:close()
    flag:release()
    for _, t in ipairs(ts) do t:join() end
    print("done")`, async (p, capture) => {
    await waitFor(() => captureText(capture).includes('running'), 20_000, 'the threads to run');
    const still = new Int32Array(new SharedArrayBuffer(4));
    for (let cycle = 0; cycle < 30; cycle++) {
      const before = captureLength(capture);
      stopLuaWorld(p.host.lua, p.rt.main, 5000); // throws StopTimeoutError if a thread never parks
      const n0 = captureLength(capture);
      Atomics.wait(still, 0, 0, 3); // a window in which a running thread would write
      const n1 = captureLength(capture);
      p.rt.startTheWorld();
      assert.is(n1, n0, `output moved while stopped (cycle ${cycle})`);
      await waitFor(() => captureLength(capture) > before, 10_000, 'progress after the start');
    }
    fs.writeFileSync(path.join(dir, 'stw-release'), '');
  });
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /done/);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
test.run();
