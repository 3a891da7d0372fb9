/* fork from Lua code (vms/lua/src/lfork.c, docs/LUA.md "fork", docs/EMBEDDING.md
 * "fork from a C module"). */
#ifndef LFORK_H
#define LFORK_H
#include "lua.h"

/* lua_pcallk's contract. With k == NULL and a Lua function as callee, the
 * call runs in a root coroutine resumed by a loop in C: os.fork yields out of
 * every VM frame to that loop, which forks with no VM frame live; the child
 * resumes the same coroutine with 0. Results, error object and message handler
 * (called at the error point) are those of lua_pcall. Any other call is
 * lua_pcallk itself. */
int lwtc_pcallk(lua_State *L, int narg, int nres, int msgh, lua_KContext ctx, lua_KFunction k);

/* Registers os.fork, os.waitpid, os.getpid and the fork-aware coroutine
 * functions (main.c's luaL_openlibs calls it). */
void lwtc_open_fork(lua_State *L);

/* Ends a fork child whose forking thread's function returned (ok) or raised
 * (its error on T's top, reported as lua.c reports one): exit status 0 or 1.
 * For a fork under a callback in a thread's function (lthread.c). */
void lwtc_fork_thread_exit(lua_State *T, int ok);

/* True on the thread that forked, in the child (where it was the only thread). */
int lwtc_forked(void);

#endif
