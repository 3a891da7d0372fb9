/* The GIL and the thread's core handle, for the thread library (lthread.c)
 * and the fork glue. Every function here is called with the GIL held unless it
 * says otherwise. */
#ifndef LWTC_GIL_H
#define LWTC_GIL_H
#include <stdint.h>
#include "lua.h"

/* This thread's core handle: the pthread layer's (the host registered the
 * thread); where no host did (one instance, no runtime) the first call
 * registers and attaches it. Negative: a core error. */
int32_t lwtc_core_self(void);
/* True once thread h can no longer run: its slot is DEAD, FREE or reused. */
int lwtc_handle_gone(int32_t h);

/* A fork child's only thread, the forking one: the lock is its own again. */
void lwtc_gil_after_fork_child(void);

/* Turns the GIL on (before the second thread exists); the caller holds it. */
int32_t lwtc_gil_enable(lua_State *L);
int lwtc_gil_enabled(void);
/* Give the GIL up for a blocking wait / take it back (waiting detached). */
void lwtc_gil_release(void);
void lwtc_gil_acquire(lua_State *L);
/* Hand the GIL to a waiter if there is one, then take it back. */
void lwtc_gil_yield(lua_State *L);
/* A thread's base state: a drop request is delivered to it and to the state it runs. */
void lwtc_thread_root(lua_State *L);
/* Switch interval in milliseconds (CPython's sys.getswitchinterval(), 5 ms). */
int32_t lwtc_switch_interval(void);
void lwtc_set_switch_interval(int32_t ms);

/* Lua's allocator, made safe against a drop request delivered from another thread. */
void *lwtc_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* Wait detached until *word != value or ns elapse (ns < 0: forever): the pthread layer's blocking region. */
void lwtc_wait_detached(int32_t *word, int32_t value, int64_t ns);

/* The monotonic clock straight from WASI. */
int64_t lwtc_now_ns(void);

/* The interpreter cannot continue (the GIL's owner died): message to fd 2, exit 70. */
_Noreturn void lwtc_fatal(const char *msg);

#endif
