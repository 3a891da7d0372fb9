-- A module found through package.path.
local M = {}
M.name = ...
M.file = select(2, ...) ~= nil
function M.greet(who) return "hello, " .. who end
return M
