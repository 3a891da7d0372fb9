/* fork for a program on the layer, where no frame of it needs to live on in
 * the child (docs/EMBEDDING.md, "fork from a C module"): the child starts in
 * the program's export wtp_fork_child(arg) on the forking thread's stack, with
 * its TLS block and the copied heap. libc's locks are held across the copy
 * (wtp_before_fork), so the child never finds malloc or stdio half-way. */
#include <errno.h>
#include <sys/types.h>

#include "internal.h"

int32_t wtp_host_fork(int32_t arg) __attribute__((import_module("wtp_fork"), import_name("fork")));
int32_t wtp_host_waitpid(int32_t pid, int32_t nohang) __attribute__((import_module("wtp_fork"), import_name("waitpid")));

void wtp_before_fork(void);
void wtp_after_fork_parent(void);

/* The child's pid, or -1 with errno (the host's fork refused: EAGAIN; failed: ENOMEM). */
pid_t wtp_fork(int arg) {
  wtp_before_fork();
  int32_t pid = wtp_host_fork(arg);
  wtp_after_fork_parent();
  if (pid < 0) {
    errno = -pid;
    return -1;
  }
  return pid;
}

/* The child's exit status; -1 with errno ECHILD. With `nohang`, 0 while it runs (and *running set). */
int wtp_waitpid(pid_t pid, int nohang, int *running) {
  int32_t r = wtp_host_waitpid(pid, nohang);
  if (running) *running = r == -1;
  if (r == -1) return 0;
  if (r < -1) {
    errno = -r;
    return -1;
  }
  return r;
}
