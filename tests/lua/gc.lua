-- Garbage collector: modes, finalizers, weak tables, to-be-closed variables.
print(collectgarbage("isrunning"), type(collectgarbage("count")), collectgarbage("step") ~= nil)
print(collectgarbage("incremental"), collectgarbage("generational"), collectgarbage("incremental"))
local order = {}
for i = 1, 5 do setmetatable({}, { __gc = function() order[#order + 1] = i end }) end
collectgarbage() collectgarbage()
print(table.concat(order, " "))
local weak = setmetatable({}, { __mode = "k" })
local strong = {}
for i = 1, 10 do local k = {} weak[k] = i if i % 2 == 0 then strong[#strong + 1] = k end end
collectgarbage() collectgarbage()
local n = 0 for _ in pairs(weak) do n = n + 1 end print("weak keys left", n)
local wv = setmetatable({}, { __mode = "v" }) wv[1] = {} wv[2] = strong collectgarbage() print(wv[1], wv[2] == strong)
local resurrect
do setmetatable({ name = "zombie" }, { __gc = function(o) resurrect = o end }) end
collectgarbage() collectgarbage() print(resurrect and resurrect.name)
do
  local a <close> = setmetatable({}, { __close = function(_, e) print("close a", e) end })
  local b <close> = setmetatable({}, { __close = function(_, e) print("close b", e) end })
  print("in block")
end
print(pcall(function()
  local c <close> = setmetatable({}, { __close = function(_, e) print("close c", e) end })
  error("err in block")
end))
print(pcall(function() local bad <close> = {} end))
local before = collectgarbage("count")
do local big = {} for i = 1, 100000 do big[i] = { i } end end
collectgarbage() collectgarbage()
print("freed", collectgarbage("count") < before + 1000)
local strs = {} for i = 1, 20000 do strs[i] = string.rep("x", i % 100) .. i end
print(#strs, strs[20000], collectgarbage("count") > 0)
print(collectgarbage("setpause", 100), collectgarbage("setstepmul", 200), collectgarbage("setpause", 200), collectgarbage("setstepmul", 100))
collectgarbage("stop") print(collectgarbage("isrunning")) collectgarbage("restart") print(collectgarbage("isrunning"))
local t = setmetatable({}, { __gc = true }) print(getmetatable(t).__gc)
local closed = {}
local function gen() local x <close> = setmetatable({}, { __close = function() closed[#closed + 1] = "gen" end }) return 1 end
gen() print(table.concat(closed))
for _, v in ipairs({ 1 }) do end
local function iter() local i = 0 return function() i = i + 1 if i <= 2 then return i end end, nil, nil,
  setmetatable({}, { __close = function() print("iterator closed") end }) end
for i in iter() do io.write(i, " ") end print()
for i in iter() do if i == 1 then break end end
