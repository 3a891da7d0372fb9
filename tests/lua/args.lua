-- The command line: arg, ..., and the exit status.
print(#arg, arg[1], arg[2], arg[3], arg[4])
print(select("#", ...), ...)
print(arg[-1] ~= nil, type(arg[0]))
io.stdout:write("before exit\n")
io.stderr:write("to stderr\n")
os.exit(tonumber(arg[1]) or 0)
