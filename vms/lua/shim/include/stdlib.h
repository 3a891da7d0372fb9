/* wasi-libc's <stdlib.h> plus mkstemp, which it hides (posix.c defines it
 * over the host's preopened directories: Lua's os.tmpname). */
#ifndef LWTC_STDLIB_H
#define LWTC_STDLIB_H
#include_next <stdlib.h>
#ifdef __cplusplus
extern "C" {
#endif
int mkstemp(char *);
#ifdef __cplusplus
}
#endif
#endif
