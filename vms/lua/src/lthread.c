/* The `thread` library: Lua threads on workers, one global state (docs/LUA.md,
 * "Threads"). A thread is a lua_newthread of the caller's state run by a new
 * worker that the host starts for its ticket (env.lwtc_spawn). Every wait here
 * gives the GIL up first and sleeps detached, so neither the holder's work nor
 * a stop-the-world waits for it; no libc runs while the GIL is released. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "lauxlib.h"
#include "lua.h"
#include "wasm_threads_core.h"
#include "gil.h"
#include "lfork.h"

#define EXPORT(n) __attribute__((export_name(#n)))

/* lua_pcallk as lua.c's main calls it (main.c; the fork library's version
 * lets os.fork run from a thread's function too). */
int lwtc_pcallk(lua_State *L, int nargs, int nresults, int msgh, lua_KContext ctx, lua_KFunction k);

/* Start a worker that calls lwtc_thread_entry(ticket): 0, or negative. */
int32_t lwtc_spawn(int32_t ticket) __attribute__((import_module("env"), import_name("lwtc_spawn")));

#define MAX_THREADS 64
#define STACK_SIZE (256 * 1024) /* a worker's C stack */

/* vms/lua/src/main.c: a thread area (header, TLS block, stack), from malloc. */
uintptr_t lwtc_area_new(uint32_t stack_size);

enum { T_FREE, T_STARTING, T_RUNNING, T_DONE, T_DIED };

/* Shared with vms/lua/host/thread-worker.ts, which reads the first fields by offset. */
struct ticket {
  uint32_t area;      /* +0  the worker's stack + TLS area */
  uint32_t spare;     /* +4 */
  int32_t handle;     /* +8  the worker's core handle once registered */
  int32_t state;      /* +12 T_* */
  int32_t tid;        /* +16 thread.id() */
  int32_t ok;         /* the function returned (else its error is on T's stack) */
  int32_t ref;        /* registry reference anchoring T */
  int32_t held;       /* a Lua handle still refers to this ticket */
  lua_State *T;
};
static struct ticket tickets[MAX_THREADS];
static int32_t next_tid = 1;
static int32_t closing;
static _Thread_local int32_t my_tid = 1;

#define HANDLE "thread.handle"
#define LOCK "thread.lock"
struct handle { int32_t idx, tid, joined; };
struct ulock { int32_t id; };

#define LOAD(p) __atomic_load_n(p, __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_SEQ_CST)


static int32_t self_handle(lua_State *L) {
  int32_t h = lwtc_core_self();
  if (h < 0) luaL_error(L, "thread: no core handle (%d)", (int)h);
  return h;
}

/* ---- thread.start / handle:join ------------------------------------------- */

static struct ticket *free_ticket(lua_State *L) {
  for (int i = 0; i < MAX_THREADS; i++) {
    struct ticket *t = &tickets[i];
    int32_t s = LOAD(&t->state);
    /* a finished worker's area is free once its slot is gone: the job has returned */
    if (s == T_FREE || (s >= T_DONE && !t->held && (!LOAD(&t->handle) || lwtc_handle_gone(t->handle)))) {
      if (s != T_FREE && t->ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
      t->ref = LUA_NOREF;
      return t;
    }
  }
  return NULL;
}

static int t_start(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (closing) return luaL_error(L, "thread.start: the interpreter is closing");
  int32_t r = lwtc_gil_enable(L);
  if (r < 0) return luaL_error(L, "thread.start: cannot create the interpreter lock (%d)", (int)r);
  struct ticket *t = free_ticket(L);
  if (!t) return luaL_error(L, "thread.start: more than %d threads", MAX_THREADS);
  if (!t->area) {
    uintptr_t a = lwtc_area_new(STACK_SIZE);
    if (!a) return luaL_error(L, "thread.start: out of memory");
    t->area = (uint32_t)a;
  }
  int n = lua_gettop(L);
  lua_State *T = lua_newthread(L);
  t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_xmove(L, T, n); /* the function and its arguments */
  t->T = T;
  t->tid = ++next_tid;
  t->ok = 0;
  t->held = 1;
  STORE(&t->handle, 0);
  STORE(&t->state, T_STARTING);
  struct handle *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->idx = (int32_t)(t - tickets);
  u->tid = t->tid;
  u->joined = 0;
  luaL_setmetatable(L, HANDLE);
  if ((r = lwtc_spawn((int32_t)(uintptr_t)t)) < 0) {
    STORE(&t->state, T_DIED);
    return luaL_error(L, "thread.start: the host cannot start a worker (%d)", (int)r);
  }
  return 1;
}

/* A worker's whole life, called by its job (thread-worker.ts) once the job's
 * handle is set (lwtc_set_core_self); the job unregisters afterwards. */
EXPORT(lwtc_thread_entry) int32_t lwtc_thread_entry(struct ticket *t) {
  int32_t h = lwtc_core_self();
  if (h < 0) {
    STORE(&t->state, T_DIED);
    __builtin_wasm_memory_atomic_notify(&t->state, UINT32_MAX);
    return h;
  }
  STORE(&t->handle, h);
  my_tid = t->tid;
  lua_State *T = t->T;
  lwtc_gil_acquire(T);
  lwtc_thread_root(T);
  STORE(&t->state, T_RUNNING);
  int st = lwtc_pcallk(T, lua_gettop(T) - 1, LUA_MULTRET, 0, 0, NULL);
  t->ok = st == LUA_OK;
  lwtc_thread_root(NULL);
  STORE(&t->state, T_DONE);
  __builtin_wasm_memory_atomic_notify(&t->state, UINT32_MAX);
  lwtc_gil_release();
  return st;
}

/* A fork child whose forking thread ran this ticket, after its function
 * returned there (a fork under a callback rewinds lwtc_thread_entry itself):
 * the process ends, with lua.c's report of an error (lfork.c). */
EXPORT(lwtc_fork_thread_end) void lwtc_fork_thread_end(struct ticket *t) {
  lwtc_fork_thread_exit(t->T, t->ok);
}

/* With the GIL released: until the ticket's state is at least `least`. A
 * worker that was terminated writes nothing: its slot going away says it. */
#define START_DEADLINE_NS (60 * 1000000000LL)
static void wait_state(struct ticket *t, int32_t least) {
  int32_t s;
  int64_t since = lwtc_now_ns();
  while ((s = LOAD(&t->state)) < least) {
    int32_t h = LOAD(&t->handle);
    /* gone, or never started: the host could not give it a worker (nothing reports that) */
    if ((h > 0 && lwtc_handle_gone(h)) || (s == T_STARTING && lwtc_now_ns() - since > START_DEADLINE_NS)) {
      __atomic_compare_exchange_n(&t->state, &s, T_DIED, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
      continue;
    }
    lwtc_wait_detached(&t->state, s, 20 * 1000000LL);
  }
}

static int h_join(lua_State *L) {
  struct handle *u = luaL_checkudata(L, 1, HANDLE);
  struct ticket *t = &tickets[u->idx];
  if (u->joined) return luaL_error(L, "join: thread %d was already joined", (int)u->tid);
  if (u->tid == my_tid) return luaL_error(L, "join: a thread cannot join itself");
  if (LOAD(&t->state) < T_DONE) {
    lwtc_gil_release();
    wait_state(t, T_DONE);
    lwtc_gil_acquire(L);
  }
  u->joined = 1;
  lua_State *T = t->T;
  int died = LOAD(&t->state) == T_DIED;
  int n = died ? 0 : t->ok ? lua_gettop(T) : 1;
  if (n && !lua_checkstack(L, n)) return luaL_error(L, "join: too many results");
  lua_xmove(T, L, n);
  luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
  t->ref = LUA_NOREF;
  t->held = 0;
  if (died) return luaL_error(L, "join: thread %d was terminated before it finished", (int)u->tid);
  if (!t->ok) return lua_error(L); /* the thread's error value, as it was raised */
  return n;
}

static int h_gc(lua_State *L) {
  struct handle *u = luaL_checkudata(L, 1, HANDLE);
  if (!u->joined) tickets[u->idx].held = 0; /* its Lua thread is unanchored when the ticket is reused */
  return 0;
}

static int h_tostring(lua_State *L) {
  struct handle *u = luaL_checkudata(L, 1, HANDLE);
  lua_pushfstring(L, "thread %d", (int)u->tid);
  return 1;
}

static int h_id(lua_State *L) {
  struct handle *u = luaL_checkudata(L, 1, HANDLE);
  lua_pushinteger(L, u->tid);
  return 1;
}

/* ---- thread.lock ------------------------------------------------------------ */

static int t_lock(lua_State *L) {
  self_handle(L);
  int32_t id = wtc_lock_create(WTC_LOCK_MUTEX);
  if (id == WTC_E_FULL) { /* the core's 256 locks: unreachable lock objects give theirs back when collected */
    lua_gc(L, LUA_GCCOLLECT);
    id = wtc_lock_create(WTC_LOCK_MUTEX);
  }
  if (id < 0) return luaL_error(L, "thread.lock: no free core lock (%d)", (int)id);
  struct ulock *k = lua_newuserdatauv(L, sizeof *k, 0);
  k->id = id;
  luaL_setmetatable(L, LOCK);
  return 1;
}

static int l_acquire(lua_State *L) {
  struct ulock *k = luaL_checkudata(L, 1, LOCK);
  double timeout = luaL_optnumber(L, 2, -1);
  int32_t h = self_handle(L);
  int32_t r = wtc_lock_acquire(h, k->id, 0);
  if (r == WTC_E_WOULD_BLOCK && timeout != 0) {
    int32_t ms = timeout < 0 ? -1 : timeout * 1000 >= INT32_MAX ? INT32_MAX : (int32_t)ceil(timeout * 1000);
    lwtc_gil_release();
    r = wtc_lock_acquire(h, k->id, ms); /* waits detached */
    lwtc_gil_acquire(L);
  }
  switch (r) {
  case WTC_OK: lua_pushboolean(L, 1); return 1;
  case WTC_E_WOULD_BLOCK:
  case WTC_E_TIMEOUT: lua_pushboolean(L, 0); return 1;
  case WTC_E_OWNER_DEAD: /* held now; what it guards is the caller's to check */
    wtc_lock_consistent(h, k->id);
    lua_pushboolean(L, 1);
    lua_pushliteral(L, "owner died");
    return 2;
  case WTC_E_DEADLOCK: return luaL_error(L, "lock:acquire: this thread already holds the lock");
  default: return luaL_error(L, "lock:acquire: core error %d", (int)r);
  }
}

static int l_release(lua_State *L) {
  struct ulock *k = luaL_checkudata(L, 1, LOCK);
  int32_t r = wtc_lock_release(self_handle(L), k->id);
  if (r == WTC_E_NOT_OWNER) return luaL_error(L, "lock:release: the lock is not held by this thread");
  if (r < 0) return luaL_error(L, "lock:release: core error %d", (int)r);
  return 0;
}

static int l_gc(lua_State *L) {
  struct ulock *k = luaL_checkudata(L, 1, LOCK);
  wtc_lock_destroy(k->id); /* E_BUSY when still held: the id stays taken */
  return 0;
}

/* ---- thread.sleep / id / switchinterval ----------------------------------- */

static int t_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  if (!(s > 0)) { /* sleep(0): let a waiting thread run */
    if (lwtc_gil_enabled()) lwtc_gil_yield(L);
    return 0;
  }
  int64_t deadline = lwtc_now_ns() + (int64_t)(s * 1e9);
  int32_t word = 0;
  lwtc_gil_release();
  for (int64_t left; (left = deadline - lwtc_now_ns()) > 0;) lwtc_wait_detached(&word, 0, left);
  lwtc_gil_acquire(L);
  return 0;
}

/* Seconds on the monotonic clock every thread reads alike (os.clock is CPU time). */
static int t_clock(lua_State *L) {
  lua_pushnumber(L, (lua_Number)lwtc_now_ns() / 1e9);
  return 1;
}

static int t_id(lua_State *L) {
  lua_pushinteger(L, my_tid);
  return 1;
}

static int t_switchinterval(lua_State *L) {
  lua_Number old = lwtc_switch_interval() / 1000.0;
  if (!lua_isnoneornil(L, 1)) {
    lua_Number s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s > 0, 1, "must be positive");
    lwtc_set_switch_interval(s * 1000 >= INT32_MAX ? INT32_MAX : (int32_t)ceil(s * 1000));
  }
  lua_pushnumber(L, old);
  return 1;
}

/* lua_close: the state goes away, so the threads still running finish first
 * (like Python's interpreter exit). os.exit ends the process at once. */
static int t_atclose(lua_State *L) {
  closing = 1;
  if (!lwtc_gil_enabled()) return 0;
  lwtc_gil_release();
  for (int i = 0; i < MAX_THREADS; i++)
    if (LOAD(&tickets[i].state) != T_FREE) wait_state(&tickets[i], T_DONE);
  lwtc_gil_acquire(L);
  return 0;
}

/* Pushes metatable `name` with `methods` as its __index and `gc` as __gc. */
static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
}

int luaopen_thread(lua_State *L) {
  static const luaL_Reg lib[] = {
      {"start", t_start}, {"lock", t_lock}, {"sleep", t_sleep}, {"id", t_id},
      {"switchinterval", t_switchinterval}, {"clock", t_clock}, {NULL, NULL}};
  static const luaL_Reg handle[] = {{"join", h_join}, {"id", h_id}, {NULL, NULL}};
  static const luaL_Reg lock[] = {{"acquire", l_acquire}, {"release", l_release}, {NULL, NULL}};
#ifndef LWTC_NO_GIL
  lua_setallocf(L, lwtc_alloc, NULL); /* frees of CallInfos wait for a drop request's walk */
#endif
  if (lwtc_core_self() > 0) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    lwtc_thread_root(lua_tothread(L, -1));
    lua_pop(L, 1);
  }
  new_class(L, HANDLE, handle, h_gc);
  lua_pushcfunction(L, h_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  new_class(L, LOCK, lock, l_gc);
  lua_pop(L, 1);
  /* the close sentinel: a registry userdata, finalized only by lua_close */
  lua_newuserdatauv(L, 1, 0);
  lua_newtable(L);
  lua_pushcfunction(L, t_atclose);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, "thread.atclose");
  luaL_newlib(L, lib);
  return 1;
}
