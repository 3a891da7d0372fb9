-- Tables, metatables and the table library (no output that depends on hash order or addresses).
local t = { 5, 2, 8, 1, 9, 3 }
table.insert(t, 7) table.insert(t, 1, 0) print(table.concat(t, " "), #t, table.remove(t), table.remove(t, 1), #t)
table.sort(t) print(table.concat(t, " ")) table.sort(t, function(a, b) return a > b end) print(table.concat(t, " "))
print(table.unpack({ 1, 2, 3 })) print(table.unpack({ 1, 2, 3 }, 2)) print(table.unpack({ 1, 2, 3 }, 2, 5))
print(select("#", table.unpack({}, 1, 3)), table.pack(1, nil, 3).n, #table.pack())
print(table.concat(table.move({ 1, 2, 3, 4, 5 }, 2, 4, 1), ","), table.concat(table.move({ 1, 2 }, 1, 2, 3, { 9, 9 }), ","))
local words = {} for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do words[#words + 1] = w end
table.sort(words) print(table.concat(words, " "))
local recs = {} for i = 1, 200 do recs[i] = { k = (i * 37) % 50, i = i } end
table.sort(recs, function(a, b) if a.k ~= b.k then return a.k < b.k end return a.i < b.i end)
print(recs[1].k, recs[1].i, recs[200].k, recs[200].i)
print(pcall(table.sort, { 3, 1, 2 }, function(a, b) return true end))
print(pcall(table.insert, {}, 5, 1)) print(pcall(table.concat, { {} }))
local V = {} V.__index = V
function V.new(x, y) return setmetatable({ x = x, y = y }, V) end
V.__add = function(a, b) return V.new(a.x + b.x, a.y + b.y) end
V.__eq = function(a, b) return a.x == b.x and a.y == b.y end
V.__lt = function(a, b) return a.x < b.x end V.__le = function(a, b) return a.x <= b.x end
V.__tostring = function(v) return "(" .. v.x .. "," .. v.y .. ")" end
V.__len = function() return 2 end V.__call = function(v, k) return v[k] end
V.__concat = function(a, b) return tostring(a) .. "&" .. tostring(b) end
V.__unm = function(v) return V.new(-v.x, -v.y) end V.__idiv = function() return "idiv" end
local a, b = V.new(1, 2), V.new(3, 4)
print(tostring(a + b), a == V.new(1, 2), a < b, a <= b, a > b, #a, a("y"), a .. b, a .. "s", tostring(-a), a // b)
local log = {} local proxy = setmetatable({}, { __index = function(_, k) log[#log + 1] = "get " .. k return k .. "!" end,
  __newindex = function(t, k, v) log[#log + 1] = "set " .. k rawset(t, k, v) end })
print(proxy.foo, proxy.bar) proxy.x = 1 proxy.x = 2 print(rawget(proxy, "x"), table.concat(log, ","))
print(rawequal(a, a), rawequal(a, V.new(1, 2)), rawlen({ 1, 2 }), rawlen("abc"), getmetatable("x").__index == string)
local ro = setmetatable({}, { __metatable = "locked" }) print(getmetatable(ro), pcall(setmetatable, ro, {}))
local arr = {} for i = 1, 100 do arr[i] = i * i end print(#arr, arr[50], select("#", ipairs(arr)))
local sum = 0 for i, v in ipairs(arr) do sum = sum + v end print(sum)
local holes = { 1, 2, nil, 4 } print(#holes == 4 or #holes == 2, next({}), type(next), next({ 10 }))
local keys = {} for k in pairs({ a = 1, b = 2, c = 3 }) do keys[#keys + 1] = k end table.sort(keys) print(table.concat(keys))
local cnt = 0 local big = {} for i = 1, 10000 do big["k" .. i] = i end for k, v in pairs(big) do cnt = cnt + v end print(cnt)
for i = 1, 10000, 2 do big["k" .. i] = nil end cnt = 0 for _ in pairs(big) do cnt = cnt + 1 end print(cnt)
goto skip print("not printed") ::skip:: print("after goto")
local env = { print = print } local fn = load("x = 5 print(x)", "chunk", "t", env) fn() print(env.x, x)
print(select(-1, 1, 2, 3), select(2, "a", "b", "c"), pcall(select, 0))
local mt = { __index = function(t, k) return k * 2 end } local dbl = setmetatable({}, mt) print(dbl[21], dbl[1.5])
local t2 = {} t2[1.0] = "float key" t2[2^53] = "big" print(t2[1], t2[2^53], math.type(next(t2)))
print(pcall(function() local t = {} t[nil] = 1 end)) print(pcall(function() local t = {} t[0/0] = 1 end))
