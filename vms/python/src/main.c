/* The `python3.11` command on the core: CPython's own Programs/python.c (its
 * main calls Py_BytesMain) behind wasi-libc's argument handling. The host
 * calls wtpy_command once the first thread's stack pointer and TLS block are
 * set (vms/python/host/loader.ts). */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* wasi-libc: reads the arguments (args_get) and calls main. */
int __main_void(void);
void __wasm_call_ctors(void);

/* The process entry: constructors (wasi-libc's preopens), the working
 * directory, main, then exit() (atexit handlers, stdio flushed, proc_exit).
 * wasi-libc resolves relative paths against its own working directory and
 * then against the preopens: the host passes the directory as $PWD, as a
 * shell does. */
__attribute__((export_name("wtpy_command"))) void wtpy_command(void) {
  __wasm_call_ctors();
  const char *pwd = getenv("PWD");
  if (pwd != NULL && pwd[0] == '/') chdir(pwd);
  exit(__main_void());
}

/* The main thread's TLS block: static, so it never meets malloc's heap. */
#define WTPY_MAIN_TLS_SIZE 256
static _Alignas(16) unsigned char main_tls[WTPY_MAIN_TLS_SIZE];

__attribute__((export_name("wtpy_main_tls"))) uintptr_t wtpy_main_tls(void) { return (uintptr_t)main_tls; }
__attribute__((export_name("wtpy_main_tls_size"))) uint32_t wtpy_main_tls_size(void) { return WTPY_MAIN_TLS_SIZE; }
