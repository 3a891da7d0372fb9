/* The `lua` command on the core: Lua's own lua.c (its main renamed to
 * lua_standalone_main by the build), entered through the pthread layer's
 * wtp_command (constructors, the working directory from $PWD, wasi-libc's
 * argument handling, main, exit), and the library set: Lua's standard libraries (linit.c's luaL_openlibs, renamed
 * lwtc_openlibs_standard) plus the libraries other files of this directory
 * register through the weak hooks below (docs/LUA.md, "Inside the build"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

int lua_standalone_main(int argc, char **argv);
void lwtc_openlibs_standard(lua_State *L);

/* Defined by the threads and fork files when they are linked. */
__attribute__((weak)) int luaopen_thread(lua_State *L);
__attribute__((weak)) void lwtc_open_fork(lua_State *L);
__attribute__((weak)) void lwtc_process_start(void);

/* lua.c calls this for every chunk it runs (the build renames its lua_pcallk);
 * the fork library defines a strong one that runs the chunk in a coroutine. */
__attribute__((weak)) int lwtc_pcallk(lua_State *L, int nargs, int nresults, int msgh, lua_KContext ctx, lua_KFunction k) {
  return lua_pcallk(L, nargs, nresults, msgh, ctx, k);
}

void luaL_openlibs(lua_State *L) {
  lwtc_openlibs_standard(L);
  if (luaopen_thread) {
    luaL_requiref(L, "thread", luaopen_thread, 1);
    lua_pop(L, 1);
  }
  if (lwtc_open_fork) lwtc_open_fork(L);
}

int main(int argc, char **argv) {
  if (lwtc_process_start) lwtc_process_start();
  return lua_standalone_main(argc, argv);
}
