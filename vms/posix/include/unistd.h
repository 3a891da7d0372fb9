/* wasi-libc's <unistd.h> plus fork, which the layer provides
 * (vms/posix/src/fork.c; wasi-libc leaves it out: WASI has no fork). */
#ifndef WTP_UNISTD_H
#define WTP_UNISTD_H
#include_next <unistd.h>
#ifdef __cplusplus
extern "C" {
#endif
pid_t fork(void);
#ifdef __cplusplus
}
#endif
#endif
