/* POSIX fork() from under C frames, in the module the fork build step
 * (scripts/asyncify-fork.mjs) instrumented: from a qsort comparator (a libc
 * frame between), from a thread while two others hammer malloc, and in a loop
 * reaped by wait(). Each child finds every frame above the fork as it was —
 * locals, its caller's array half-sorted — and reports by its exit status. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int forked_in_cmp;

/* The child checks what it can see from here, then exits; the parent reaps it. */
static void fork_and_reap(int code, int expect_local) {
  int local = expect_local;
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    void *p = malloc(1000); /* malloc's lock was released in the child */
    _exit(p != NULL && local == expect_local ? code : 99);
  }
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK(WIFEXITED(status));
  CHECK_EQ(WEXITSTATUS(status), code);
  errno = 0;
  CHECK_EQ(waitpid(pid, &status, 0), -1);
  CHECK_EQ(errno, ECHILD);
}

static int cmp(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  if (!forked_in_cmp) {
    forked_in_cmp = 1;
    fork_and_reap(21, x * 1000 + y);
  }
  return (x > y) - (x < y);
}

static volatile int32_t quit;

static void *storm(void *a) {
  void *keep[16] = {0};
  for (unsigned i = 0; !__atomic_load_n(&quit, __ATOMIC_SEQ_CST); i++) {
    free(keep[i % 16]);
    keep[i % 16] = malloc(16 + (i * 37) % 2000);
  }
  for (int k = 0; k < 16; k++) free(keep[k]);
  return a;
}

static void *forker(void *a) {
  fork_and_reap(22, 7);
  return a;
}

int main(void) {
  int v[8] = {5, 3, 8, 1, 9, 2, 7, 4};
  qsort(v, 8, sizeof v[0], cmp);
  for (int i = 1; i < 8; i++) CHECK(v[i - 1] <= v[i]);
  puts("ok qsort");

  pthread_t s[2], f;
  for (int i = 0; i < 2; i++) CHECK_EQ(pthread_create(&s[i], NULL, storm, NULL), 0);
  CHECK_EQ(pthread_create(&f, NULL, forker, NULL), 0);
  CHECK_EQ(pthread_join(f, NULL), 0);
  __atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
  for (int i = 0; i < 2; i++) CHECK_EQ(pthread_join(s[i], NULL), 0);
  puts("ok thread");

  int seen = 0;
  for (int i = 0; i < 3; i++) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(30 + i);
  }
  for (int i = 0; i < 3; i++) {
    int status = 0;
    CHECK(wait(&status) > 0);
    seen |= 1 << (WEXITSTATUS(status) - 30);
  }
  CHECK_EQ(seen, 7);
  errno = 0;
  CHECK_EQ(wait(NULL), -1);
  CHECK_EQ(errno, ECHILD);
  puts("ok wait");
  return 0;
}
