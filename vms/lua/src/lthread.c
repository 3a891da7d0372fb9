/* The `thread` library: Lua threads on workers, one global state (docs/LUA.md,
 * "Threads"). A thread is a lua_newthread of the caller's state run by a
 * pthread of the pthread layer (vms/posix: the host starts a worker for it).
 * Every wait here gives the GIL up first and sleeps detached, so neither the
 * holder's work nor a stop-the-world waits for it. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "lauxlib.h"
#include "lua.h"
#include "wasm_threads_core.h"
#include "gil.h"
#include "lfork.h"

/* lua_pcallk as lua.c's main calls it (main.c; the fork library's version
 * lets os.fork run from a thread's function too). */
int lwtc_pcallk(lua_State *L, int nargs, int nresults, int msgh, lua_KContext ctx, lua_KFunction k);

#define MAX_THREADS 64
#define STACK_SIZE (256 * 1024) /* a thread's C stack */

enum { T_FREE, T_STARTING, T_RUNNING, T_DONE, T_DIED };

struct ticket {
  pthread_t thread;
  int32_t handle;     /* the worker's core handle once it runs */
  int32_t state;      /* T_* */
  int32_t tid;        /* thread.id() */
  int32_t ok;         /* the function returned (else its error is on T's stack) */
  int32_t ref;        /* registry reference anchoring T */
  int32_t held;       /* a Lua handle still refers to this ticket */
  int32_t reaped;     /* joined or detached: the layer owns what is left of the pthread */
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
    if (s == T_FREE || (s >= T_DONE && !t->held && t->reaped)) {
      if (s != T_FREE && t->ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
      t->ref = LUA_NOREF;
      return t;
    }
  }
  return NULL;
}

/* A thread's whole life on its pthread. In a fork child whose forking thread
 * ran it (a fork under a callback rewinds this function), its return ends the
 * process, with lua.c's report of an error (lfork.c). */
static void *thread_main(void *arg) {
  struct ticket *t = arg;
  STORE(&t->handle, lwtc_core_self());
  my_tid = t->tid;
  lua_State *T = t->T;
  lwtc_gil_acquire(T);
  lwtc_thread_root(T);
  STORE(&t->state, T_RUNNING);
  int st = lwtc_pcallk(T, lua_gettop(T) - 1, LUA_MULTRET, 0, 0, NULL);
  t->ok = st == LUA_OK;
  if (lwtc_forked()) lwtc_fork_thread_exit(T, t->ok);
  lwtc_thread_root(NULL);
  STORE(&t->state, T_DONE);
  __builtin_wasm_memory_atomic_notify(&t->state, UINT32_MAX);
  lwtc_gil_release();
  return NULL;
}

static int t_start(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (closing) return luaL_error(L, "thread.start: the interpreter is closing");
  int32_t r = lwtc_gil_enable(L);
  if (r < 0) return luaL_error(L, "thread.start: cannot create the interpreter lock (%d)", (int)r);
  struct ticket *t = free_ticket(L);
  if (!t) return luaL_error(L, "thread.start: more than %d threads", MAX_THREADS);
  int n = lua_gettop(L);
  lua_State *T = lua_newthread(L);
  t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_xmove(L, T, n); /* the function and its arguments */
  t->T = T;
  t->tid = ++next_tid;
  t->ok = 0;
  t->held = 1;
  t->reaped = 0;
  STORE(&t->handle, 0);
  STORE(&t->state, T_STARTING);
  struct handle *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->idx = (int32_t)(t - tickets);
  u->tid = t->tid;
  u->joined = 0;
  luaL_setmetatable(L, HANDLE);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, STACK_SIZE);
  r = pthread_create(&t->thread, &attr, thread_main, t);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    STORE(&t->state, T_DIED);
    t->reaped = 1;
    return luaL_error(L, "thread.start: the host cannot start a worker (%d)", (int)r);
  }
  return 1;
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
  void *result = NULL;
  lwtc_gil_release();
  int r = pthread_join(t->thread, &result); /* PTHREAD_CANCELED: its worker was terminated */
  lwtc_gil_acquire(L);
  u->joined = 1;
  t->reaped = 1;
  int died = r != 0 || result == PTHREAD_CANCELED || LOAD(&t->state) != T_DONE;
  if (died) STORE(&t->state, T_DIED);
  lua_State *T = t->T;
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
  if (!u->joined) { /* its Lua thread is unanchored when the ticket is reused; the layer reclaims the pthread */
    struct ticket *t = &tickets[u->idx];
    t->held = 0;
    if (!t->reaped) pthread_detach(t->thread);
    t->reaped = 1;
  }
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
  struct timespec d = {.tv_sec = 1000000000, .tv_nsec = 0}; /* a longer sleep: 31 years */
  if (s < 1e9) d.tv_sec = (time_t)s, d.tv_nsec = (long)((s - (double)d.tv_sec) * 1e9);
  lwtc_gil_release();
  nanosleep(&d, NULL); /* the layer's: a detached wait */
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
 * (like Python's interpreter exit). os.exit ends the process at once. The
 * closing thread's own ticket is skipped: a fork child whose forking thread
 * ran one closes the state from that thread. */
static int t_atclose(lua_State *L) {
  closing = 1;
  if (!lwtc_gil_enabled()) return 0;
  lwtc_gil_release();
  for (int i = 0; i < MAX_THREADS; i++)
    if (LOAD(&tickets[i].state) != T_FREE && tickets[i].tid != my_tid) wait_state(&tickets[i], T_DONE);
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
