/* wasi-libc's <stdio.h> plus what Lua's POSIX configuration calls and WASI
 * lacks: popen/pclose (posix.c: they fail with ENOSYS) and flockfile. */
#ifndef LWTC_STDIO_H
#define LWTC_STDIO_H
#include_next <stdio.h>
#ifdef __cplusplus
extern "C" {
#endif
FILE *popen(const char *, const char *);
int pclose(FILE *);
void flockfile(FILE *);
void funlockfile(FILE *);
#ifdef __cplusplus
}
#endif
#endif
