/* A fork while other threads hammer malloc and stdio: the fork takes libc's
 * locks first (wtp_before_fork), so the copy never holds malloc or a FILE
 * half-way; the child, with only the forking thread, allocates, frees and
 * prints, and reports by its exit status. The parent's threads go on. Then
 * the process's own pids (getpid, getppid) and a kill of a child. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define THREADS 3
static volatile int32_t quit;
static volatile int32_t rounds[THREADS];
static pid_t parent_pid;
/* Lines the storm may still print: given anew before each fork, so lines are written while every child is made, and
 * the output stays bounded however long a child takes. */
#define LINES_PER_FORK 256
static volatile int32_t lines_left = LINES_PER_FORK;

#define UNTIL_KILLED 99

static void *storm(void *a) {
  int id = (int)(intptr_t)a;
  void *keep[32] = {0};
  for (unsigned i = 0; !__atomic_load_n(&quit, __ATOMIC_SEQ_CST); i++) {
    unsigned k = i % 32;
    free(keep[k]);
    keep[k] = malloc(16 + (i * 37) % 4000);
    CHECK(keep[k] != NULL);
    memset(keep[k], id, 16);
    if (i % 64 == 0 && __atomic_sub_fetch(&lines_left, 1, __ATOMIC_SEQ_CST) >= 0) {
      char line[64];
      snprintf(line, sizeof line, "storm %d %u\n", id, i);
      fputs(line, stdout);
    }
    __atomic_fetch_add(&rounds[id], 1, __ATOMIC_SEQ_CST);
  }
  for (int k = 0; k < 32; k++) free(keep[k]);
  return NULL;
}

/* The child: alone, on the forking thread's stack. Any lock left held would hang here. */
__attribute__((export_name("wtp_fork_child"))) int wtp_fork_child(int arg) {
  if (getppid() != parent_pid || getpid() == parent_pid) return 6;
  if (arg == UNTIL_KILLED) {
    /* ends only by the parent's kill; the deadline ends a child no kill reached */
    time_t end = time(NULL) + 60;
    while (time(NULL) < end) sched_yield();
    return 7;
  }
  void *p[256];
  for (int r = 0; r < 20; r++) {
    for (int i = 0; i < 256; i++) {
      p[i] = malloc(8 + (i * 13 + r) % 3000);
      if (!p[i]) return 3;
      memset(p[i], i, 8);
    }
    for (int i = 0; i < 256; i++) free(p[i]);
  }
  char *s = NULL;
  size_t n = 0;
  FILE *m = open_memstream(&s, &n);
  if (!m) return 4;
  fprintf(m, "child %d", arg);
  fclose(m);
  if (strcmp(s, "child 0") && arg == 0) return 5;
  free(s);
  fflush(stderr);
  return 10 + arg;
}

int main(void) {
  parent_pid = getpid();
  CHECK(parent_pid > 0);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK_EQ(pthread_create(&t[i], NULL, storm, (void *)(intptr_t)i), 0);
  for (int i = 0; i < THREADS; i++)
    while (__atomic_load_n(&rounds[i], __ATOMIC_SEQ_CST) < 100) sched_yield();
  for (int f = 0; f < 5; f++) {
    int32_t before[THREADS];
    for (int i = 0; i < THREADS; i++) before[i] = __atomic_load_n(&rounds[i], __ATOMIC_SEQ_CST);
    __atomic_store_n(&lines_left, LINES_PER_FORK, __ATOMIC_SEQ_CST);
    int pid = wtp_fork(f);
    CHECK(pid > 0);
    int status = wtp_waitpid(pid, 0, NULL);
    CHECK_EQ(status, 10 + f);
    /* reaped: a second wait is ECHILD in this libc's numbering, as every failure of the layer is */
    errno = 0;
    CHECK_EQ(wtp_waitpid(pid, 0, NULL), -1);
    CHECK_EQ(errno, ECHILD);
    /* the parent's threads still run: none was left holding a lock */
    for (int i = 0; i < THREADS; i++)
      while (__atomic_load_n(&rounds[i], __ATOMIC_SEQ_CST) < before[i] + 50) sched_yield();
  }
  puts("ok forks");
  __atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
  for (int i = 0; i < THREADS; i++) CHECK_EQ(pthread_join(t[i], NULL), 0);
  puts("ok joined");
  int pid = wtp_fork(UNTIL_KILLED);
  CHECK(pid > 0);
  CHECK_EQ(kill(pid, 0), 0);
  errno = 0;
  CHECK_EQ(kill(pid, 1000), -1);
  CHECK_EQ(errno, EINVAL);
  CHECK_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK(WIFSIGNALED(status));
  CHECK_EQ(WTERMSIG(status), SIGTERM);
  errno = 0;
  CHECK_EQ(kill(pid, SIGTERM), -1);
  CHECK_EQ(errno, ESRCH);
  CHECK_EQ(getpid(), parent_pid);
  puts("ok kill");
  puts("done");
  return 0;
}
