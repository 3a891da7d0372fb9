/* The native baseline of scripts/bench-lua-fork.ts: fork, _exit, waitpid and
 * a monotonic clock for Debian's lua5.4, whose lua-posix (bookworm: Lua 5.1-5.3
 * only) does not load. The same system calls as posix.unistd.fork, _exit and
 * posix.sys.wait.wait. Built at bench time against the Lua headers of the
 * Debian source the build fetched. */
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"

static int l_fork(lua_State *L) {
  lua_pushinteger(L, fork());
  return 1;
}

static int l_exit(lua_State *L) {
  _exit((int)luaL_optinteger(L, 1, 0));
}

static int l_wait(lua_State *L) {
  int status = 0;
  if (waitpid((pid_t)luaL_checkinteger(L, 1), &status, 0) < 0) return 0;
  lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 1;
}

static int l_now_ms(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec * 1e3 + (lua_Number)ts.tv_nsec / 1e6);
  return 1;
}

int luaopen_bench_fork(lua_State *L) {
  static const luaL_Reg f[] = {{"fork", l_fork}, {"_exit", l_exit}, {"wait", l_wait}, {"now_ms", l_now_ms}, {NULL, NULL}};
  luaL_newlib(L, f);
  return 1;
}
