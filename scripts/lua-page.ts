// web/lua.html: runs the script in the text area as `lua -e` in an in-page Lua
// process (vms/lua/host/browser.ts) and shows what it and its fork children
// print. `?auto=1` runs the example on load.
import { listenLuaOutput, startBrowserLuaProcess } from '../vms/lua/host/browser.js';

const EXAMPLE = `-- two threads share a table behind a lock; then the process forks
local shared, lk = { n = 0 }, thread.lock()
local ts = {}
for k = 1, 2 do
  ts[k] = thread.start(function()
    for i = 1, 10000 do lk:acquire(); shared.n = shared.n + 1; lk:release() end
    return thread.id()
  end)
end
for k = 1, 2 do print("thread " .. ts[k]:join() .. " done") end
print("counter", shared.n)

local pid = os.fork()
if pid == 0 then
  print("child: I see counter = " .. shared.n .. ", exiting with 7")
  os.exit(7)
end
print("parent: forked " .. pid .. ", its status is " .. os.waitpid(pid))
`;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const source = $<HTMLTextAreaElement>('source');
const out = $<HTMLPreElement>('out');
const status = $<HTMLSpanElement>('status');
const run = $<HTMLButtonElement>('run');
source.value = EXAMPLE;

listenLuaOutput((text, fd) => {
  const span = document.createElement('span');
  if (fd === 2) span.className = 'err';
  span.textContent = text;
  out.append(span);
});

async function start(): Promise<void> {
  run.disabled = true;
  out.textContent = '';
  status.className = '';
  status.textContent = 'running…';
  try {
    // lua.c takes `-e` joined to its chunk too, which may then start with '-' (a comment)
    const p = await startBrowserLuaProcess(['lua', `-e${source.value}`]);
    const code = await p.status;
    status.className = code === 0 ? 'ok' : 'bad';
    status.textContent = `exit status ${code}`;
  } catch (e) {
    status.className = 'bad';
    status.textContent = e instanceof Error ? e.message : String(e);
  } finally {
    run.disabled = false;
  }
}

run.addEventListener('click', () => void start());
status.textContent = crossOriginIsolated ? 'ready' : 'this page needs cross-origin isolation (npm run serve)';
if (new URLSearchParams(location.search).get('auto') === '1') void start();
