/* wasi-libc (Debian's 2022 build, compiled without atomics) defines a plain
 * `errno`, but its <__errno.h> declares it _Thread_local: objects built with
 * -matomics would carry TLS relocations against a non-TLS symbol and fail to
 * link. Every use goes through a function instead (errno.c). errno stays one
 * process-wide word: libc calls run under the interpreter's lock (docs/LUA.md). */
#ifndef __wasilibc___errno_h
#define __wasilibc___errno_h
#ifdef __cplusplus
extern "C" {
#endif
int *__errno_location(void);
#define errno (*__errno_location())
#ifdef __cplusplus
}
#endif
#endif
