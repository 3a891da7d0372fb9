/* A fork() the host refuses, because a thread never reaches a safe point
 * within the stop's deadline: -1 with EAGAIN, and strerror gives the host's
 * reason, which names the deadline the fork's stop was given. Prints
 * "pid<TAB>errno<TAB>reason". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int e = errno;
  printf("%d\t%d\t%s\n", (int)pid, pid < 0 ? e : 0, pid < 0 ? strerror(e) : "");
  return 0;
}
