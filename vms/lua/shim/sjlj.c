/* Runtime helpers of clang 19's Wasm setjmp/longjmp lowering (what
 * emscripten's compiler-rt provides). setjmp records its function invocation
 * and label in the jmp_buf; longjmp throws the C-longjmp Wasm exception
 * (tag __c_longjmp, sjlj-tag.S) that the lowered setjmp's catch tests. No
 * malloc, no JS; the in-flight argument is per thread. */
#include <stdint.h>

struct jmp_buf_impl {
  void *func_invocation_id;
  uint32_t label;
};

void __wasm_setjmp(void *env, uint32_t label, void *func_invocation_id) {
  struct jmp_buf_impl *jb = env;
  jb->func_invocation_id = func_invocation_id;
  jb->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *func_invocation_id) {
  struct jmp_buf_impl *jb = env;
  return jb->func_invocation_id == func_invocation_id ? jb->label : 0;
}

struct wasm_longjmp_args {
  void *env;
  int val;
};
static _Thread_local struct wasm_longjmp_args longjmp_args;

void __wasm_longjmp(void *env, int val) {
  longjmp_args.env = env;
  longjmp_args.val = val == 0 ? 1 : val;
  __builtin_wasm_throw(1, &longjmp_args); /* tag 1: C longjmp */
}
