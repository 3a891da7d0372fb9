/* The process's own identity and its signals to its children: getpid() and
 * getppid() answer the runtime's pids (the root's own, a fork child's the pid
 * fork returned in its parent), where wasi-libc's emulated getpid answers the
 * same number in every process; kill() ends a child (the host records the
 * signal in its wait status), and a spawned child (spawn.c) as its host
 * ends a process. */
#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include "spawn_internal.h"

int32_t wtp_host_getpid(void) __attribute__((import_module("wtp_fork"), import_name("getpid")));
int32_t wtp_host_getppid(void) __attribute__((import_module("wtp_fork"), import_name("getppid")));
/* 0, or -errno: ESRCH (not an unreaped child), EINVAL (a signal other than 0, SIGTERM, SIGKILL). */
int32_t wtp_host_kill(int32_t pid, int32_t sig) __attribute__((import_module("wtp_fork"), import_name("kill")));

pid_t getpid(void) { return wtp_host_getpid(); }

pid_t getppid(void) { return wtp_host_getppid(); }

/* Only a child: there are no process groups, and a process cannot signal
 * itself or its parent (none installs handlers; exit() ends the process). */
int kill(pid_t pid, int sig) {
  if (sig < 0 || sig >= 64) {
    errno = EINVAL;
    return -1;
  }
  if (pid <= 0) {
    errno = pid == 0 || pid == -1 ? EPERM : ESRCH;
    return -1;
  }
  if (wtp_spawned_is_child(pid)) return wtp_spawned_kill(pid, sig);
  int32_t r = wtp_host_kill(pid, sig);
  if (r < 0) {
    errno = -r;
    return -1;
  }
  return 0;
}
