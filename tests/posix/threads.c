/* Threads: create/join/detach/exit values, attributes, self/equal, once,
 * keys with destructors, per-thread errno and _Thread_local. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static _Thread_local int tl = 7;

static void *ret_arg(void *a) { return (void *)((intptr_t)a * 2); }

/* A thread that starts threads: a tree of depth 3 sums its leaves. */
static void *tree(void *a) {
  intptr_t depth = (intptr_t)a;
  if (depth == 0) return (void *)1;
  pthread_t l, r;
  void *x, *y;
  CHECK_EQ(pthread_create(&l, NULL, tree, (void *)(depth - 1)), 0);
  CHECK_EQ(pthread_create(&r, NULL, tree, (void *)(depth - 1)), 0);
  CHECK_EQ(pthread_join(l, &x), 0);
  CHECK_EQ(pthread_join(r, &y), 0);
  return (void *)((intptr_t)x + (intptr_t)y);
}

static void *exits(void *a) {
  tl = (int)(intptr_t)a;
  pthread_exit((void *)((intptr_t)a + 100));
}

static void *deep_stack(void *a) {
  /* uses most of a 64 KiB linear stack: the size attribute was honoured */
  volatile char buf[48 * 1024];
  memset((char *)buf, (int)(intptr_t)a, sizeof buf);
  return (void *)(intptr_t)buf[sizeof buf - 1];
}

static pthread_t seen_self;
static void *report_self(void *a) {
  (void)a;
  seen_self = pthread_self();
  return NULL;
}

static int once_runs;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_once(void) { __atomic_fetch_add(&once_runs, 1, __ATOMIC_SEQ_CST); }
static void *call_once(void *a) {
  (void)a;
  pthread_once(&once, init_once);
  return (void *)(intptr_t)__atomic_load_n(&once_runs, __ATOMIC_SEQ_CST);
}

static pthread_key_t key;
static int destructed[8];
static void dtor(void *v) { __atomic_fetch_add(&destructed[(intptr_t)v], 1, __ATOMIC_SEQ_CST); }
static void *set_key(void *a) {
  CHECK(pthread_getspecific(key) == NULL);
  CHECK_EQ(pthread_setspecific(key, a), 0);
  CHECK(pthread_getspecific(key) == a);
  return NULL;
}

static void *errno_thread(void *a) {
  /* a libc call that fails sets this thread's errno only */
  errno = 0;
  CHECK_EQ(close(1000 + (int)(intptr_t)a), -1);
  int mine = errno;
  CHECK_EQ(mine, EBADF);
  CHECK_EQ(tl, 7); /* _Thread_local starts from its initialiser on every thread */
  tl = (int)(intptr_t)a;
  return (void *)(intptr_t)errno;
}

/* Outlives main's pthread_exit: the process ends only after it. */
static void *last_one(void *a) {
  (void)a;
  int32_t w = 0;
  __builtin_wasm_memory_atomic_wait32(&w, 0, 50 * 1000000LL);
  puts("done");
  return NULL;
}

static volatile int32_t detached_done;
static void *detached_fn(void *a) {
  (void)a;
  __atomic_store_n(&detached_done, 1, __ATOMIC_SEQ_CST);
  __builtin_wasm_memory_atomic_notify((int32_t *)&detached_done, 1);
  return NULL;
}

int main(void) {
  pthread_t t[8];
  void *r;

  /* create / join return values */
  for (int i = 0; i < 4; i++) CHECK_EQ(pthread_create(&t[i], NULL, ret_arg, (void *)(intptr_t)(i + 1)), 0);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(pthread_join(t[i], &r), 0);
    CHECK_EQ((intptr_t)r, (i + 1) * 2);
  }
  CHECK_EQ(pthread_create(&t[0], NULL, tree, (void *)(intptr_t)3), 0);
  CHECK_EQ(pthread_join(t[0], &r), 0);
  CHECK_EQ((intptr_t)r, 8);
  puts("ok create-join");

  /* pthread_exit's value, and _Thread_local stays per thread */
  CHECK_EQ(pthread_create(&t[0], NULL, exits, (void *)(intptr_t)5), 0);
  CHECK_EQ(pthread_join(t[0], &r), 0);
  CHECK_EQ((intptr_t)r, 105);
  CHECK_EQ(tl, 7);
  puts("ok exit");

  /* attributes: stack size, detach state */
  pthread_attr_t attr;
  size_t sz;
  CHECK_EQ(pthread_attr_init(&attr), 0);
  CHECK_EQ(pthread_attr_setstacksize(&attr, 1), EINVAL);
  CHECK_EQ(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
  CHECK_EQ(pthread_attr_getstacksize(&attr, &sz), 0);
  CHECK_EQ(sz, 64 * 1024);
  CHECK_EQ(pthread_create(&t[0], &attr, deep_stack, (void *)(intptr_t)3), 0);
  CHECK_EQ(pthread_join(t[0], &r), 0);
  CHECK_EQ((intptr_t)r, 3);
  int ds;
  CHECK_EQ(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED), 0);
  CHECK_EQ(pthread_attr_getdetachstate(&attr, &ds), 0);
  CHECK_EQ(ds, PTHREAD_CREATE_DETACHED);
  CHECK_EQ(pthread_create(&t[0], &attr, detached_fn, NULL), 0);
  for (int i = 0; i < 100 && !__atomic_load_n(&detached_done, __ATOMIC_SEQ_CST); i++)
    __builtin_wasm_memory_atomic_wait32((int32_t *)&detached_done, 0, 100 * 1000000LL);
  CHECK_EQ(detached_done, 1);
  pthread_attr_destroy(&attr);
  puts("ok attributes");

  /* detach after create: join refuses */
  CHECK_EQ(pthread_create(&t[0], NULL, ret_arg, NULL), 0);
  CHECK_EQ(pthread_detach(t[0]), 0);
  CHECK_EQ(pthread_detach(t[0]), EINVAL);
  puts("ok detach");

  /* self and equal */
  CHECK(pthread_equal(pthread_self(), pthread_self()));
  CHECK_EQ(pthread_create(&t[0], NULL, report_self, NULL), 0);
  CHECK_EQ(pthread_join(t[0], NULL), 0);
  CHECK(pthread_equal(seen_self, t[0]));
  CHECK(!pthread_equal(seen_self, pthread_self()));
  CHECK_EQ(pthread_join(pthread_self(), NULL), EDEADLK);
  puts("ok self");

  /* once: 6 threads race, the routine runs once and every caller returns after it */
  for (int i = 0; i < 6; i++) CHECK_EQ(pthread_create(&t[i], NULL, call_once, NULL), 0);
  for (int i = 0; i < 6; i++) {
    CHECK_EQ(pthread_join(t[i], &r), 0);
    CHECK_EQ((intptr_t)r, 1);
  }
  CHECK_EQ(once_runs, 1);
  puts("ok once");

  /* keys: values per thread, destructors at thread exit, none for NULL values */
  CHECK_EQ(pthread_key_create(&key, dtor), 0);
  CHECK_EQ(pthread_setspecific(key, (void *)(intptr_t)7), 0);
  for (int i = 1; i <= 4; i++) CHECK_EQ(pthread_create(&t[i], NULL, set_key, (void *)(intptr_t)i), 0);
  for (int i = 1; i <= 4; i++) CHECK_EQ(pthread_join(t[i], NULL), 0);
  for (int i = 1; i <= 4; i++) CHECK_EQ(destructed[i], 1);
  CHECK_EQ(destructed[7], 0); /* the main thread has not exited */
  CHECK(pthread_getspecific(key) == (void *)(intptr_t)7);
  CHECK_EQ(pthread_key_delete(key), 0);
  CHECK_EQ(pthread_key_create(&key, NULL), 0);
  CHECK(pthread_getspecific(key) == NULL); /* a new key never shows an old value */
  puts("ok keys");

  /* errno per thread: each thread's failing call sets its own */
  errno = ENOENT;
  for (int i = 0; i < 4; i++) CHECK_EQ(pthread_create(&t[i], NULL, errno_thread, (void *)(intptr_t)i), 0);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(pthread_join(t[i], &r), 0);
    CHECK_EQ((intptr_t)r, EBADF);
  }
  CHECK_EQ(errno, ENOENT);
  puts("ok errno");

  /* sleeps: the layer's clock_nanosleep under nanosleep, usleep and sleep, on both clocks */
  long long t0 = now_ms(CLOCK_MONOTONIC);
  CHECK_EQ(usleep(20000), 0);
  struct timespec d = {0, 20 * 1000000L};
  CHECK_EQ(nanosleep(&d, NULL), 0);
  CHECK_EQ(sleep(0), 0);
  struct timespec until = in_ms(CLOCK_MONOTONIC, 20);
  CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL), 0);
  CHECK(now_ms(CLOCK_MONOTONIC) - t0 >= 59);
  d.tv_nsec = 1000000000L;
  CHECK_EQ(nanosleep(&d, NULL), -1);
  CHECK_EQ(errno, EINVAL);
  puts("ok sleep");
  fflush(stdout);

  /* pthread_exit on the first thread: the process lives on until its last thread ends, then exits 0 */
  CHECK_EQ(pthread_create(&t[0], NULL, last_one, NULL), 0);
  CHECK_EQ(pthread_detach(t[0]), 0);
  pthread_exit(NULL);
}
