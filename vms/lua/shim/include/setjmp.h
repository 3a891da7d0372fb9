/* wasi-libc (2022) has no <setjmp.h>. clang 19's Wasm setjmp/longjmp lowering
 * (-mexception-handling -mllvm -wasm-enable-sjlj) rewrites the calls to these
 * two names; its runtime helpers are in sjlj.c. A jmp_buf holds the helpers'
 * record (invocation id, label). The POSIX names (Lua's LUA_USE_POSIX) are
 * the same calls: there is no signal mask to keep. */
#ifndef LWTC_SETJMP_H
#define LWTC_SETJMP_H
#ifdef __cplusplus
extern "C" {
#endif
typedef unsigned long jmp_buf[8];
int setjmp(jmp_buf) __attribute__((returns_twice));
void longjmp(jmp_buf, int) __attribute__((noreturn));
#define _setjmp setjmp
#define _longjmp longjmp
#ifdef __cplusplus
}
#endif
#endif
