/* The process entry of a program on the layer (Lua, CPython and the tests'
 * C programs link it): on the first thread's instance once its stack
 * and TLS block are placed, constructors once per process (wasi-libc's reads
 * the preopens), the working directory from $PWD (wasi-libc resolves relative
 * paths against its own, "/" by default), main through wasi-libc's argument
 * handling, then exit(), which flushes stdio. */
#include <stdlib.h>
#include <unistd.h>

int __main_void(void);
void __wasm_call_ctors(void);

__attribute__((export_name("wtp_command"))) void wtp_command(void) {
  __wasm_call_ctors();
  const char *pwd = getenv("PWD");
  if (pwd != NULL && pwd[0] == '/') chdir(pwd);
  exit(__main_void());
}
