-- An empty path names no file: every call that takes a path fails with "No such file or directory" and touches
-- nothing (the working directory is not opened, removed or renamed). errno numbers differ (WASI's), so only
-- their presence is printed.
local function show(what, ok, msg, code) print(what, ok, msg, math.type(code)) end
for _, mode in ipairs({ "r", "w", "a", "r+", "w+", "rb" }) do show("open " .. mode, io.open("", mode)) end
show("remove", os.remove(""))
show("rename from", os.rename("", "renamed-cwd"))
local f = assert(io.open("paths-file.txt", "w")) f:write("kept") f:close()
show("rename to", os.rename("paths-file.txt", ""))
print("still there", io.open("paths-file.txt"):read("a"))
print(os.remove("paths-file.txt"))
print(pcall(io.lines, ""))
print(pcall(io.input, ""))
print(loadfile(""))
print(pcall(dofile, ""))
-- package.searchpath expands each template of the path; an empty template is the empty file name
print(package.searchpath("mod", ""))
print(package.searchpath("mod", ";"))
print(package.searchpath("mod", ";;./?.lua"))
print(package.searchpath("a.b", "?;"))
package.path, package.cpath = ";", "./?.so"
print(pcall(require, "no_such_mod"))
