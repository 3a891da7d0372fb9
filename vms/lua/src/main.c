/* The `lua` command on the core: Lua's own lua.c (its main renamed to
 * lua_standalone_main by the build) behind wasi-libc's argument handling, and
 * the library set: Lua's standard libraries (linit.c's luaL_openlibs, renamed
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

/* wasi-libc: reads the arguments (args_get) and calls main. */
int __main_void(void);
void __wasm_call_ctors(void);

/* The process entry, on the main thread's instance once its stack pointer and
 * TLS block are set: constructors (wasi-libc's preopens), the working
 * directory, main, then exit() (atexit handlers, stdio flushed, proc_exit).
 * wasi-libc resolves relative paths against its own working directory and
 * then against the preopens: the host passes the directory as $PWD, as a
 * shell does. */
__attribute__((export_name("lwtc_command"))) void lwtc_command(void) {
  __wasm_call_ctors();
  const char *pwd = getenv("PWD");
  if (pwd != NULL && pwd[0] == '/') chdir(pwd);
  exit(__main_void());
}

/* The main thread's TLS block: static, so it never meets malloc's heap. */
#define LWTC_MAIN_TLS_SIZE 256
static _Alignas(16) unsigned char main_tls[LWTC_MAIN_TLS_SIZE];

__attribute__((export_name("lwtc_main_tls"))) uintptr_t lwtc_main_tls(void) { return (uintptr_t)main_tls; }
__attribute__((export_name("lwtc_main_tls_size"))) uint32_t lwtc_main_tls_size(void) { return LWTC_MAIN_TLS_SIZE; }

/* A thread area: a header, the TLS block, then the thread's C stack growing
 * down from the end. From malloc, so it can never overlap the heap; the caller
 * holds the interpreter lock (wasi-libc's malloc has no lock of its own). */
struct lwtc_area {
  uint32_t size;
  uint32_t tls_offset;
};

#define LWTC_ALIGN(x, a) (((x) + (a) - 1) & ~((uintptr_t)(a) - 1))

__attribute__((export_name("lwtc_area_new"))) uintptr_t lwtc_area_new(uint32_t stack_size) {
  uintptr_t tls_align = __builtin_wasm_tls_align() > 16 ? __builtin_wasm_tls_align() : 16;
  uintptr_t tls_offset = LWTC_ALIGN(sizeof(struct lwtc_area), tls_align);
  uintptr_t size = LWTC_ALIGN(tls_offset + __builtin_wasm_tls_size(), 16) + LWTC_ALIGN(stack_size, 16);
  struct lwtc_area *a = aligned_alloc(tls_align, LWTC_ALIGN(size, tls_align));
  if (a == NULL) return 0;
  a->size = (uint32_t)size;
  a->tls_offset = (uint32_t)tls_offset;
  return (uintptr_t)a;
}

__attribute__((export_name("lwtc_area_tls"))) uintptr_t lwtc_area_tls(uintptr_t area) {
  return area + ((struct lwtc_area *)area)->tls_offset;
}

__attribute__((export_name("lwtc_area_stack_top"))) uintptr_t lwtc_area_stack_top(uintptr_t area) {
  return area + ((struct lwtc_area *)area)->size;
}

__attribute__((export_name("lwtc_area_free"))) void lwtc_area_free(uintptr_t area) { free((void *)area); }
