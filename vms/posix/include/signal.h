/* wasi-libc's <signal.h> (its emulated signals) plus kill, which the layer
 * provides for a process's children (vms/posix/src/proc.c; wasi-libc leaves
 * it out: WASI has no processes). */
#ifndef WTP_SIGNAL_H
#define WTP_SIGNAL_H
#include_next <signal.h>
#include <sys/types.h>
#ifdef __cplusplus
extern "C" {
#endif
int kill(pid_t pid, int sig);
#ifdef __cplusplus
}
#endif
#endif
