// The Lua threads + fork suite inside a page (tests/lua-browser.test.ts runs it
// in Chromium and Firefox): each case runs a script as `lua -e` in an in-page
// Lua process and checks the lines it and its fork children print, and its
// exit status. Every wait has a deadline.
import { listenLuaOutput, startBrowserLuaProcess } from '../../vms/lua/host/browser.js';
import { equal, waitFor, within } from './page-helpers.js';

export interface LuaCaseResult { name: string; ok: boolean; error?: string }

interface Case { name: string; source: string; lines: string[]; status?: number }

export const LUA_BROWSER_CASES: Case[] = [
  {
    name: 'threads: lock-guarded counters are exact and tables are shared',
    source: `
      local shared, lk = { n = 0 }, thread.lock()
      local ts = {}
      for k = 1, 3 do
        ts[k] = thread.start(function() for i = 1, 2000 do lk:acquire(); shared.n = shared.n + 1; lk:release() end end)
      end
      for k = 1, 3 do ts[k]:join() end
      print("count", shared.n)`,
    lines: ['count\t6000'],
  },
  {
    name: 'fork: the child sees the parent\'s tables, exits with its status; pcall and a coroutine too',
    source: `
      local t = { tag = "parent-table" }
      local pid = os.fork()
      if pid == 0 then print("child", t.tag); os.exit(7) end
      print("status", os.waitpid(pid))
      local ok, p = pcall(os.fork)
      if p == 0 then os.exit(3) end
      print("pcall", ok, os.waitpid(p))
      local co = coroutine.wrap(function() local q = os.fork(); if q == 0 then os.exit(4) end; return q end)
      print("coroutine", os.waitpid(co()))
      print(pcall(string.gsub, "x", "x", os.fork))`,
    lines: ['child\tparent-table', 'status\t7', 'pcall\ttrue\t3', 'coroutine\t4'],
  },
  {
    name: 'fork from a thread while another thread runs',
    source: `
      local stop, spinning = false, false
      local spinner = thread.start(function() spinning = true; local i = 0; while not stop do i = i + 1 end; return i end)
      -- the fork happens while the spinner spins
      while not spinning do thread.sleep(0.001) end
      local forker = thread.start(function()
        local pid = os.fork()
        if pid == 0 then print("child of a thread"); os.exit(5) end
        return pid
      end)
      print("from thread", os.waitpid(forker:join()))
      stop = true
      print("spinner", spinner:join() > 0)`,
    lines: ['child of a thread', 'from thread\t5', 'spinner\ttrue'],
  },
];

async function runCase(c: Case): Promise<void> {
  let out = '';
  const stop = listenLuaOutput((text) => { out += text; });
  try {
    const p = await startBrowserLuaProcess(['lua', '-e', c.source]);
    const status = await within(90_000, () => p.status, `${c.name}: the process`);
    // the fork case also prints gsub's refusal: pcall's false and the reason
    const refused = () => !c.name.startsWith('fork: ') || /^false\t.*cannot fork inside a callback of a C function/m.test(out);
    const has = () => c.lines.every((l) => out.split('\n').includes(l)) && refused();
    // writes reach the page on a channel of their own, not before the status: wait (bounded) for every expected line
    await waitFor(has, 10_000, `${c.name}: lines ${JSON.stringify(c.lines)}${c.name.startsWith('fork: ') ? ' and the gsub refusal' : ''} in ${JSON.stringify(out)}`);
    equal(status, c.status ?? 0, `${c.name}: exit status (output ${JSON.stringify(out)})`);
  } finally {
    stop();
  }
}

export async function runLuaSuite(): Promise<LuaCaseResult[]> {
  const results: LuaCaseResult[] = [];
  for (const c of LUA_BROWSER_CASES) {
    try {
      await runCase(c);
      results.push({ name: c.name, ok: true });
    } catch (e) {
      results.push({ name: c.name, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return results;
}
