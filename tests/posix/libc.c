/* libc from several threads at once: a malloc/free storm from 4 threads,
 * stdio lines from 4 threads (each line whole), files opened and closed on
 * each thread (the open-file list), and errno per thread under load. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define THREADS 4
static const char *dir = "/tmp";

/* Every thread of a round starts its work once all of them run: workers start
 * one by one, slower than a round's work takes. */
static volatile int32_t arrived;
static void start_together(void) {
  __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) % THREADS) sched_yield();
}

static uint32_t rnd(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void *storm(void *a) {
  uint32_t seed = 0x9e3779b9u * (uint32_t)((intptr_t)a + 1);
  enum { SLOTS = 64 };
  unsigned char *p[SLOTS] = {0};
  size_t n[SLOTS] = {0};
  start_together();
  for (int i = 0; i < 100000; i++) {
    int k = rnd(&seed) % SLOTS;
    unsigned char tag = (unsigned char)((intptr_t)a * 16 + k);
    if (p[k]) { /* what this thread wrote is still there: no other thread got the block */
      for (size_t j = 0; j < n[k]; j += 7) CHECK_EQ(p[k][j], tag);
      if (rnd(&seed) % 3 == 0) {
        size_t m = 1 + rnd(&seed) % 3000;
        unsigned char *q = realloc(p[k], m);
        CHECK(q != NULL);
        for (size_t j = 0; j < (m < n[k] ? m : n[k]); j += 7) CHECK_EQ(q[j], tag);
        memset(q, tag, m);
        p[k] = q;
        n[k] = m;
        continue;
      }
      free(p[k]);
      p[k] = NULL;
      continue;
    }
    n[k] = 1 + rnd(&seed) % 2000;
    switch (rnd(&seed) % 3) {
    case 0: p[k] = malloc(n[k]); break;
    case 1: p[k] = calloc(1, n[k]); for (size_t j = 0; j < n[k]; j++) CHECK_EQ(p[k][j], 0); break;
    default: {
      void *q = NULL;
      CHECK_EQ(posix_memalign(&q, 64, n[k]), 0);
      CHECK_EQ((uintptr_t)q % 64, 0);
      p[k] = q;
    }
    }
    CHECK(p[k] != NULL);
    memset(p[k], tag, n[k]);
  }
  for (int k = 0; k < SLOTS; k++) free(p[k]);
  return NULL;
}

static void *lines(void *a) {
  int id = (int)(intptr_t)a;
  start_together();
  for (int i = 0; i < 300; i++) {
    if (i % 3 == 0) printf("line t%d n%d %s\n", id, i, "abcdefghijklmnopqrstuvwxyz");
    else if (i % 3 == 1) fprintf(stdout, "line t%d n%d %s\n", id, i, "abcdefghijklmnopqrstuvwxyz");
    else {
      char buf[80];
      snprintf(buf, sizeof buf, "line t%d n%d %s\n", id, i, "abcdefghijklmnopqrstuvwxyz");
      fputs(buf, stdout);
    }
  }
  return NULL;
}

static void *files(void *a) {
  int id = (int)(intptr_t)a;
  char path[256];
  start_together();
  for (int round = 0; round < 40; round++) {
    snprintf(path, sizeof path, "%s/f%d-%d.txt", dir, id, round);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    CHECK(fprintf(f, "thread %d round %d\n", id, round) > 0);
    CHECK_EQ(fclose(f), 0);
    f = fopen(path, "r");
    CHECK(f != NULL);
    char line[64];
    CHECK(fgets(line, sizeof line, f) != NULL);
    char want[64];
    snprintf(want, sizeof want, "thread %d round %d\n", id, round);
    CHECK_EQ(strcmp(line, want), 0);
    CHECK_EQ(fclose(f), 0);
    errno = 0;
    CHECK_EQ(unlink(path), 0);
    CHECK_EQ(unlink(path), -1);
    CHECK_EQ(errno, ENOENT);
  }
  return NULL;
}

static void run(void *(*fn)(void *)) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK_EQ(pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i), 0);
  for (int i = 0; i < THREADS; i++) CHECK_EQ(pthread_join(t[i], NULL), 0);
}

int main(int argc, char **argv) {
  if (argc > 1) dir = argv[1];
  run(storm);
  puts("ok malloc-storm");
  fflush(stdout);
  run(lines);
  fflush(stdout);
  puts("ok stdio");
  run(files);
  puts("ok files");
  puts("done");
  return 0;
}
