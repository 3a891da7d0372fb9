/* Lua's user header (LUA_USER_H, included by lua.h): the interpreter lock.
 *
 * The GIL (gil.c) is held by whichever thread runs Lua, across C functions too:
 * lua_lock/lua_unlock stay empty because Lua's own unlock points (around every
 * C function, every API call, every hook) are too fine to release at: a C
 * function (print, io.write, table.sort) would see another thread change the
 * state it is using, and two threads' writes would interleave within a line.
 * The lock changes hands only at the safe points below and in the thread
 * library's blocking calls. */
#ifndef LWTC_USER_H
#define LWTC_USER_H

#include <setjmp.h>

struct lua_State;
void lwtc_safe_point(struct lua_State *L);
void lwtc_state_running(struct lua_State *L);
void lwtc_state_free(struct lua_State *L1);

#ifndef LWTC_NO_GIL /* defined only for the figures' baseline build (scripts/bench-lua-threads.ts) */

#define lua_lock(L) ((void)0)
#define lua_unlock(L) ((void)0)
/* lvm.c's checkGC, with the VM state saved: poll for a stop, honour a drop request. */
#define luai_threadyield(L) lwtc_safe_point(L)
/* The state a thread runs, so a drop request reaches the coroutine it is in. */
#define luai_userstateresume(L, n) lwtc_state_running(L)
/* A freed coroutine is no longer a target for a drop request. */
#define luai_userstatefree(L, L1) lwtc_state_free(L1)
#endif

/* ldo.c's protected call: its setjmp in a function of its own, called through a pointer, so that the fork
 * build's asyncify can carry a fork through it (ltry.c). `f` and `ud` are luaD_rawrunprotected's parameters,
 * the one place LUAI_TRY is used. */
extern void (*volatile lwtc_try)(jmp_buf b, struct lua_State *L, void (*f)(struct lua_State *L, void *ud), void *ud);
#define luai_jmpbuf jmp_buf
#define LUAI_THROW(L, c) longjmp((c)->b, 1)
#define LUAI_TRY(L, c, a) lwtc_try((c)->b, L, f, ud)

#endif
