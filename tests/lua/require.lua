-- require and package: .lua modules found on package.path.
local here = arg[0]:match("^(.*)/[^/]*$")
package.path = here .. "/modules/?.lua;" .. package.path
local m = require("diffmod")
print(m.name, m.file, m.greet("lua"), package.loaded.diffmod == m, require("diffmod") == m)
print(select(2, require("diffmod")):match("modules/diffmod.lua$"))
print(package.searchpath("diffmod", package.path):match("modules/diffmod.lua$"))
print(select(2, package.searchpath("nosuch", "./?.lua;./?/init.lua")))
local ok, e = pcall(require, "nosuchmodule") print(ok, (e:gsub("\n\t[^\n]*/[^\n]*", "\n\t<path>")))
print(pcall(require, "diffmod_err"))
print(type(package.preload), type(package.searchers), #package.searchers, package.config)
package.preload.virtual = function(name, extra) return { name = name, extra = extra } end
print(require("virtual").name, require("virtual").extra)
print(package.loaded.string == string, package.loaded._G == _G, type(package.cpath), type(package.loadlib))
print(package.loadlib("nosuch.so", "f"))
local names = {} for k in pairs(package.loaded) do names[#names + 1] = k end table.sort(names)
print(table.concat(names, " "))
