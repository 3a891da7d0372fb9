/* wasi-libc's <unistd.h> plus fork and getppid, which the layer provides
 * (vms/posix/src/fork.c, proc.c; wasi-libc leaves them out: WASI has no
 * processes), pipe and pipe2 (pipe.c: WASI has no pipes), and getpid, which
 * the layer answers with the process's own. */
#ifndef WTP_UNISTD_H
#define WTP_UNISTD_H
/* getpid as a plain declaration: libc's marks it deprecated unless the emulation is asked for */
#ifndef _WASI_EMULATED_GETPID
#define _WASI_EMULATED_GETPID 1
#endif
#include_next <unistd.h>
#ifdef __cplusplus
extern "C" {
#endif
pid_t fork(void);
pid_t getppid(void);
int pipe(int fds[2]);
int pipe2(int fds[2], int flags);
#ifdef __cplusplus
}
#endif
#endif
