/* A fork child's threads are served at once, whichever thread starts them:
 * the child's first thread starts one, which starts another, and joins the
 * first while it joins the second. And _exit on a thread other than the
 * child's first ends the child with that status while its first thread
 * waits for a post that never comes. The parent checks both statuses. */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"

enum { NESTED, EXIT_FROM_THREAD };
#define EXIT_STATUS 9

static sem_t never; /* nobody posts it */
static int32_t ran;

static void *leaf(void *a) {
  if ((intptr_t)a == EXIT_FROM_THREAD) _exit(EXIT_STATUS);
  __atomic_store_n(&ran, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void *middle(void *a) {
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, leaf, a), 0);
  if ((intptr_t)a == EXIT_FROM_THREAD) sem_wait(&never);
  CHECK_EQ(pthread_join(t, NULL), 0);
  return NULL;
}

__attribute__((export_name("wtp_fork_child"))) int wtp_fork_child(int arg) {
  pthread_t t;
  if (pthread_create(&t, NULL, middle, (void *)(intptr_t)arg) != 0) return 2;
  if (arg == EXIT_FROM_THREAD) {
    sem_wait(&never);
    return 3; /* never: the leaf's _exit ended the child */
  }
  if (pthread_join(t, NULL) != 0) return 4;
  return __atomic_load_n(&ran, __ATOMIC_SEQ_CST) ? 5 : 6;
}

int main(void) {
  CHECK_EQ(sem_init(&never, 0, 0), 0);
  int pid = wtp_fork(NESTED);
  CHECK(pid > 0);
  CHECK_EQ(wtp_waitpid(pid, 0, NULL), 5);
  puts("ok nested");
  pid = wtp_fork(EXIT_FROM_THREAD);
  CHECK(pid > 0);
  CHECK_EQ(wtp_waitpid(pid, 0, NULL), EXIT_STATUS);
  puts("ok exit");
  /* the next child runs as any does */
  pid = wtp_fork(NESTED);
  CHECK(pid > 0);
  CHECK_EQ(wtp_waitpid(pid, 0, NULL), 5);
  puts("ok again");
  return 0;
}
