/* Lua's protected call (ldo.c's LUAI_TRY, redefined in lwtc_user.h): the
 * setjmp lives in this one function, reached through a function pointer.
 *
 * Why: setjmp lowered to Wasm exceptions puts a try/catch in the function that
 * calls it, and asyncify (binaryen 108, the fork build step) cannot instrument
 * a function with a try. So that function is this small one, which asyncify
 * leaves alone: on an unwind it returns at once after f (nothing follows the
 * call), and on the rewind it runs again from its start, registering the same
 * jmp_buf at the same stack address before it calls f again, which rewinds.
 * The call through a pointer makes asyncify instrument the call site in
 * luaD_rawrunprotected (an indirect call may unwind; a direct call to an
 * uninstrumented function would be assumed not to). */
#include <setjmp.h>

#include "lua.h"

static void try_call(jmp_buf b, lua_State *L, void (*f)(lua_State *L, void *ud), void *ud) {
  if (setjmp(b) == 0) f(L, ud);
}

void (*volatile lwtc_try)(jmp_buf b, lua_State *L, void (*f)(lua_State *L, void *ud), void *ud) = try_call;
