/* os.fork, os.waitpid and os.getpid for Lua on the core (docs/LUA.md "fork").
 *
 * Wasm cannot copy its own call stack, so a fork happens where no frame of the
 * VM is live: os.fork yields, and every yield unwinds the VM's C frames (Lua
 * 5.4 resumes Lua frames, pcall and coroutines from its CallInfo chain, not
 * from the C stack). The yield reaches the loop in drive(), which forks
 * through the pthread layer's wtp_fork (libc's locks held across a
 * stop-the-world copy of the memory, host/fork); the parent resumes the
 * coroutine with the child's pid, the child resumes the same coroutine from
 * the copied heap with 0 (wtp_fork_child). The VM pays nothing for this until
 * a fork happens.
 *
 * A fork yielded inside a user coroutine is passed out by that coroutine's
 * resumer (the coroutine.resume and coroutine.wrap here) and the pid passed
 * back in. A Lua function called by a C function without a continuation (a
 * string.gsub or table.sort callback, a metamethod called from C, require)
 * cannot yield: there os.fork calls the layer's fork(), which forks with
 * every C frame live (host/c-fork.ts: asyncify unwinds and rewinds them) in
 * the fork-anywhere build (scripts/asyncify-fork.mjs), and refuses in the
 * default build, whose interpreter loop runs without asyncify's cost
 * (docs/LUA.md gives the figures of both). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "gil.h"
#include "lfork.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/* What the child of a fork from the driver resumes (wtp_fork_child): per
 * thread, so the child finds it in the forking thread's copied TLS block. */
static _Thread_local struct { lua_State *co, *from; } resume_in;
/* Set on the thread that forked, in the child: its function's end is the child's end. */
static _Thread_local int32_t forked;

int lwtc_forked(void) { return forked; }

/* The child's side of either fork, before any Lua runs there: the interpreter
 * lock is the forking thread's. */
static void after_fork_child(void) {
  forked = 1;
  lwtc_gil_after_fork_child();
}

/* A yield of this one value asks the driver for a fork. */
static const char fork_mark = 'f';
/* Resumed with this: the fork could not reach the driver (a C frame in between). */
static const char refused_mark = 'r';

#define NOT_HERE                                                                                          \
  "os.fork: cannot fork inside a callback of a C function (string.gsub, table.sort, a metamethod called "   \
  "from C, require, ...) in this build: the fork-anywhere build can (WASM_THREADS_LUA_FORK=anywhere, "   \
  "docs/LUA.md); or call os.fork outside the callback (inside pcall, coroutines and nested Lua calls it works)"

#define NO_DRIVER "os.fork: this code was not started by lwtc_pcallk, the fork-aware call (docs/EMBEDDING.md)"

/* The innermost root coroutine running on this thread (drive() sets it). */
static _Thread_local lua_State *cur_root;

/* The text of errno `e` (the host's words for a refused fork: the layer's
 * strerror), prefixed with `what` unless it names it already. */
static void push_host_error(lua_State *L, const char *what, int e) {
  const char *text = strerror(e);
  size_t w = strlen(what);
  if (strlen(text) > w && memcmp(text, what, w) == 0 && text[w] == ':') {
    lua_pushstring(L, text);
    return;
  }
  lua_pushfstring(L, "%s: %s", what, text);
}

/* ---- the driver ------------------------------------------------------------------------- */

/* What os.fork returns for fork's result: the pid, or nil + message + errno. */
static int push_fork_result(lua_State *L, int32_t pid) {
  if (pid >= 0) {
    lua_pushinteger(L, pid);
    return 1;
  }
  int e = errno;
  lua_pushnil(L);
  push_host_error(L, "fork", e);
  lua_pushinteger(L, e);
  return 3;
}

/* The parent's side of one fork: the values os.fork returns, pushed on co.
 * The child starts in wtp_fork_child on this thread's stack, fresh. */
static int fork_now(lua_State *co, lua_State *from) {
  resume_in.co = co;
  resume_in.from = from;
  return push_fork_result(co, wtp_fork(0));
}

/* Resumes root coroutine co until it finishes, forking for every fork it
 * yields. Returns lua_resume's status; *nres values (or the error) on co. */
static int drive(lua_State *from, lua_State *co, int narg, int *nres) {
  lua_State *outer = cur_root;
  int status;
  cur_root = co;
  for (;;) {
    status = lua_resume(co, from, narg, nres);
    if (status != LUA_YIELD) break;
    if (*nres == 1 && lua_touserdata(co, -1) == (void *)&fork_mark) {
      lua_pop(co, 1);
      narg = fork_now(co, from);
      continue;
    }
    /* coroutine.yield refuses at the root; only a C library's own lua_yield ends here */
    lua_pop(co, *nres);
    lua_pushliteral(co, "attempt to yield from outside a coroutine");
    status = LUA_ERRRUN;
    break;
  }
  cur_root = outer;
  return status;
}

/* The root coroutine's body: the protected call itself, so that its message
 * handler runs inside the coroutine at the error point. Stack on entry:
 * nres, msgh (or nil), f, args... Returns status, results... */
static int root_k(lua_State *co, int status, lua_KContext ctx) {
  (void)ctx;
  lua_pushinteger(co, status == LUA_YIELD ? LUA_OK : status);
  lua_replace(co, 1); /* the message handler's place */
  return lua_gettop(co);
}

static int root(lua_State *co) {
  int nres = (int)lua_tointeger(co, 1);
  int has_msgh = !lua_isnil(co, 2);
  lua_remove(co, 1);
  return root_k(co, lua_pcallk(co, lua_gettop(co) - 2, nres, has_msgh ? 1 : 0, 0, root_k), 0);
}

/* Moves the root's outcome to L in place of co (at index at): the results, or the error object. */
static int finish(lua_State *L, int at, lua_State *co, int status, int nres) {
  if (status == LUA_OK) {
    status = (int)lua_tointeger(co, -nres);
    nres--;
    if (!lua_checkstack(L, nres + 1)) {
      lua_settop(co, 0);
      lua_pushliteral(L, "too many results");
      lua_remove(L, at);
      return LUA_ERRMEM;
    }
  } else {
    nres = 1; /* the coroutine itself failed (no stack, C stack overflow): its error object */
  }
  lua_xmove(co, L, nres);
  lua_remove(L, at);
  return status;
}

int lwtc_pcallk(lua_State *L, int narg, int nres, int msgh, lua_KContext ctx, lua_KFunction k) {
  int at = lua_gettop(L) - narg; /* the function */
  int status, got;
  lua_State *co;
  if (k != NULL || lua_type(L, at) != LUA_TFUNCTION || lua_iscfunction(L, at) || !lua_checkstack(L, 2))
    return lua_pcallk(L, narg, nres, msgh, ctx, k);
  if (msgh != 0) msgh = lua_absindex(L, msgh);
  co = lua_newthread(L); /* stays on L's stack, in the function's place, until done */
  lua_rotate(L, at, 1);
  if (!lua_checkstack(co, narg + 4)) {
    lua_settop(L, at);
    lua_pushliteral(L, "too many arguments");
    lua_replace(L, at);
    return LUA_ERRMEM;
  }
  lua_pushcfunction(co, root);
  lua_pushinteger(co, nres);
  if (msgh != 0) lua_pushvalue(L, msgh); else lua_pushnil(L);
  lua_xmove(L, co, 1);
  lua_xmove(L, co, narg + 1); /* f and its arguments */
  status = drive(L, co, narg + 3, &got);
  return finish(L, at, co, status, got);
}

/* ---- the child --------------------------------------------------------------------------- */

static void write_stderr(const char *s) {
  fputs(s, stderr);
  fflush(stderr);
}

/* argv[0], the name lua.c prefixes its messages with */
static void progname(char *out, size_t size) {
  __wasi_size_t argc = 0, bytes = 0;
  snprintf(out, size, "lua");
  if (__wasi_args_sizes_get(&argc, &bytes) != 0 || argc == 0 || bytes > 4096) return;
  char **argv = malloc(argc * sizeof(char *));
  char *buf = malloc(bytes);
  if (argv && buf && __wasi_args_get((uint8_t **)argv, (uint8_t *)buf) == 0 && argv[0][0]) snprintf(out, size, "%s", argv[0]);
  free(argv);
  free(buf);
}

/* The error on L's top, as lua.c reports an error that ends the process. */
static void report(lua_State *L) {
  char name[64];
  const char *msg = lua_tostring(L, -1);
  progname(name, sizeof name);
  write_stderr(name);
  write_stderr(": ");
  write_stderr(msg ? msg : "(error object is not a string)");
  write_stderr("\n");
}

void lwtc_fork_thread_exit(lua_State *T, int ok) {
  if (!ok) report(T);
  exit(ok ? EXIT_SUCCESS : EXIT_FAILURE);
}

/* The child of a fork: resumes the forking coroutine with 0, forks again as
 * often as it asks, then ends as the process would have after that call:
 * an error is reported as lua.c reports it (status 1), the state is closed
 * and exit() flushes stdio. Only the forking thread lives here. */
EXPORT(wtp_fork_child) int32_t wtp_fork_child(int32_t arg) {
  int nres = 0, status, code = EXIT_SUCCESS;
  lua_State *co = resume_in.co, *from = resume_in.from;
  (void)arg;
  after_fork_child();
  cur_root = NULL; /* the parent's, copied with this thread's TLS block */
  lua_pushinteger(co, 0);
  status = drive(from, co, 1, &nres);
  if (status == LUA_OK) status = (int)lua_tointeger(co, -nres);
  if (status != LUA_OK) {
    report(co);
    code = EXIT_FAILURE;
  }
  lua_close(co);
  exit(code);
}

/* ---- os.fork, os.waitpid, os.getpid ------------------------------------------------------ */

/* A fork with the C frames of this thread live: the values os.fork returns. */
static int fork_here(lua_State *L) {
  pid_t pid = fork(); /* the layer's: the frames of this thread unwound and rewound in both processes */
  if (pid == 0) after_fork_child();
  if (pid < 0 && errno == ENOTSUP) return luaL_error(L, NOT_HERE);
  return push_fork_result(L, pid);
}

static int fork_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  if (lua_touserdata(L, 1) == (void *)&refused_mark) { /* a resumer with a C frame above it */
    lua_settop(L, 0);
    return fork_here(L);
  }
  return lua_gettop(L); /* pid, or nil + message + errno */
}

static int os_fork(lua_State *L) {
  if (cur_root == NULL) return luaL_error(L, NO_DRIVER);
  if (!lua_isyieldable(L)) return fork_here(L);
  lua_settop(L, 0);
  lua_pushlightuserdata(L, (void *)&fork_mark);
  return lua_yieldk(L, 1, 0, fork_k);
}

static int os_waitpid(lua_State *L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  const char *opt = luaL_optstring(L, 2, "");
  int nohang = strcmp(opt, "nohang") == 0;
  int r, e, running = 0;
  luaL_argcheck(L, nohang || opt[0] == '\0', 2, "expected \"nohang\"");
  if (pid <= 0 || pid > INT32_MAX) {
    lua_pushnil(L);
    lua_pushfstring(L, "waitpid: %I is not a child of this process", pid);
    lua_pushinteger(L, ECHILD);
    return 3;
  }
  if (!nohang) lwtc_gil_release(); /* the other threads run while this one waits (detached) */
  r = wtp_waitpid((int)pid, nohang, &running);
  e = errno;
  if (!nohang) lwtc_gil_acquire(L);
  if (r >= 0 && !running) {
    lua_pushinteger(L, r);
    return 1;
  }
  lua_pushnil(L);
  if (running) return 1; /* still running */
  push_host_error(L, "waitpid", e);
  lua_pushinteger(L, e);
  return 3;
}

static int os_getpid(lua_State *L) {
  lua_pushinteger(L, getpid());
  return 1;
}

/* ---- coroutines that pass a fork through ------------------------------------------------- */
/* As Lua's own (lcorolib.c), except that a fork yielded inside the coroutine is
 * yielded on to this function's own resumer, and what comes back (the pid)
 * resumed into the coroutine. A resumer that cannot yield (a C frame above it)
 * resumes the coroutine with the refusal instead: its os.fork raises. */

static lua_State *getco(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co, 1, "thread");
  return co;
}

/* Resumes co with the narg values on top of L: the number of values it
 * yielded or returned (moved to L), or -1 with the error on L. `base` is L's
 * stack height below those values, for the continuation k after a fork. */
static int auxresume(lua_State *L, lua_State *co, int narg, int base, lua_KFunction k) {
  int status, nres;
  if (!lua_checkstack(co, narg)) {
    lua_pushliteral(L, "too many arguments to resume");
    return -1;
  }
  lua_xmove(L, co, narg);
  for (;;) {
    status = lua_resume(co, L, narg, &nres);
    if (status != LUA_YIELD || nres != 1 || lua_touserdata(co, -1) != (void *)&fork_mark) break;
    lua_pop(co, 1);
    if (lua_isyieldable(L)) {
      lua_settop(L, base);
      lua_pushlightuserdata(L, (void *)&fork_mark);
      return lua_yieldk(L, 1, (lua_KContext)base, k); /* does not return */
    }
    lua_pushlightuserdata(co, (void *)&refused_mark);
    narg = 1;
  }
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      lua_pushliteral(L, "too many results to resume");
      return -1;
    }
    lua_xmove(co, L, nres);
    return nres;
  }
  lua_xmove(co, L, 1);
  return -1;
}

static int resume_done(lua_State *L, int r) {
  if (r < 0) {
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_insert(L, -(r + 1));
  return r + 1;
}

static int co_resume_k(lua_State *L, int status, lua_KContext base) {
  (void)status;
  return resume_done(L, auxresume(L, lua_tothread(L, 1), lua_gettop(L) - (int)base, (int)base, co_resume_k));
}

static int co_resume(lua_State *L) {
  lua_State *co = getco(L);
  return resume_done(L, auxresume(L, co, lua_gettop(L) - 1, 1, co_resume_k));
}

static int wrap_done(lua_State *L, lua_State *co, int r) {
  if (r < 0) {
    int stat = lua_status(co);
    if (stat != LUA_OK && stat != LUA_YIELD) { /* an error in the coroutine */
      stat = lua_resetthread(co);
      lua_xmove(co, L, 1);
    }
    if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
      luaL_where(L, 1);
      lua_insert(L, -2);
      lua_concat(L, 2);
    }
    return lua_error(L);
  }
  return r;
}

static int auxwrap_k(lua_State *L, int status, lua_KContext base) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  (void)status;
  return wrap_done(L, co, auxresume(L, co, lua_gettop(L) - (int)base, (int)base, auxwrap_k));
}

static int auxwrap(lua_State *L) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  return wrap_done(L, co, auxresume(L, co, lua_gettop(L), 0, auxwrap_k));
}

static int co_wrap(lua_State *L) {
  lua_State *co;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, auxwrap, 1);
  return 1;
}

/* The root coroutine stands for the main thread (or a thread's own body):
 * nothing to yield to, and coroutine.running says it is the main one. */
static int co_yield(lua_State *L) {
  if (L == cur_root) {
    lua_pushliteral(L, "attempt to yield from outside a coroutine");
    return lua_error(L);
  }
  return lua_yield(L, lua_gettop(L));
}

static int co_running(lua_State *L) {
  int ismain = lua_pushthread(L) || L == cur_root;
  lua_pushboolean(L, ismain);
  return 2;
}

static int co_isyieldable(lua_State *L) {
  lua_State *co = lua_isnone(L, 1) ? L : getco(L);
  lua_pushboolean(L, co != cur_root && lua_isyieldable(co));
  return 1;
}

void lwtc_open_fork(lua_State *L) {
  static const luaL_Reg os_funcs[] = {{"fork", os_fork}, {"waitpid", os_waitpid}, {"getpid", os_getpid}, {NULL, NULL}};
  static const luaL_Reg co_funcs[] = {
      {"resume", co_resume}, {"wrap", co_wrap}, {"yield", co_yield}, {"running", co_running},
      {"isyieldable", co_isyieldable}, {NULL, NULL}};
  if (lua_getglobal(L, LUA_OSLIBNAME) == LUA_TTABLE) luaL_setfuncs(L, os_funcs, 0);
  lua_pop(L, 1);
  if (lua_getglobal(L, LUA_COLIBNAME) == LUA_TTABLE) luaL_setfuncs(L, co_funcs, 0);
  lua_pop(L, 1);
}
