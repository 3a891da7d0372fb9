// web/lua.html: runs the script in the text area as `lua -e` in an in-page Lua
// process (vms/lua/host/browser.ts) and shows what it and its fork children
// print. `?auto=1` runs the example on load.
import { listenLuaOutput, startBrowserLuaProcess } from '../vms/lua/host/browser.js';
import { scriptPage } from './script-page.js';

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

// lua.c takes `-e` joined to its chunk too, which may then start with '-' (a comment)
const page = scriptPage(EXAMPLE, async (source) => (await startBrowserLuaProcess(['lua', `-e${source}`])).status);
// output arrives on the page's channel, from the process and its fork children alike
listenLuaOutput((text, fd) => page.write(text, fd));
