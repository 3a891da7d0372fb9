-- C stack limits: LUAI_MAXCCALLS errors, not engine traps, under deep metamethods, pcall and the parser.
local t = setmetatable({}, { __index = function(t, k) return t[k] end })
print(pcall(function() return t.x end))
local function deep(n) if n == 0 then return 0 end return select(2, pcall(deep, n - 1)) end
print(pcall(deep, 250))
print(pcall(load, "return " .. string.rep("{", 300) .. string.rep("}", 300)))
local co = coroutine.wrap(function() local function r(n) if n == 0 then return coroutine.yield("y") end return r(n - 1) + 0 end return r(10000) end)
print(co())
print(pcall(string.gsub, string.rep("a", 100), "a", function() return tostring(coroutine.running()) and "b" end) ~= nil)
