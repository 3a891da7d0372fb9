/* A thread that never polls the core, reached by stop-the-world through the
 * layer's stop hooks, as CPython's GIL holder is (docs/EMBEDDING.md "A VM
 * lock handed over on request"). The holder computes and looks only at its
 * own flags (`breaker`, `request`: CPython's eval_breaker and
 * gil_drop_request); a request makes it give up its lock and wait on a
 * condition variable for a taker, who never comes here, then take the lock
 * back, resetting the request (as CPython's drop_gil and take_gil do).
 * wtp_stop_signal makes every stop set the flags; wtp_cond_stop_guard makes
 * the stop's end wake that wait, and a request read after its stop ended (the
 * stop timed out while the holder was in a long call) cause no wait at all.
 * Either way the holder must run on. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "wasm_threads_core.h"

#define LOAD(p) __atomic_load_n(p, __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_SEQ_CST)

static volatile int request, breaker; /* the signal words, stored in this order */
static pthread_mutex_t sm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sc = PTHREAD_COND_INITIALIZER;
static volatile int quit, busy_ms, in_call, waits, progress;

static void *holder(void *a) {
  (void)a;
  while (!LOAD(&quit)) {
    STORE(&progress, LOAD(&progress) + 1);
    int ms = LOAD(&busy_ms);
    if (ms) { /* a long call that looks at no flag */
      STORE(&in_call, 1);
      long long end = now_ms(CLOCK_MONOTONIC) + ms;
      while (now_ms(CLOCK_MONOTONIC) < end) {}
      STORE(&busy_ms, 0);
    }
    if (!LOAD(&breaker)) continue;
    if (!LOAD(&request)) {
      STORE(&breaker, LOAD(&request));
      continue;
    }
    pthread_mutex_lock(&sm); /* drop: reset the request, wait for a taker */
    STORE(&request, 0);
    STORE(&breaker, LOAD(&request));
    CHECK_EQ(pthread_cond_wait(&sc, &sm), 0); /* only a stop's end, or the guard, ends it here */
    pthread_mutex_unlock(&sm);
    STORE(&request, 0); /* take: a request made meanwhile is consumed */
    STORE(&breaker, LOAD(&request));
    STORE(&waits, LOAD(&waits) + 1);
  }
  return NULL;
}

static uint32_t state_of(pthread_t t) {
  int32_t h = __atomic_load_n(&((int32_t *)t)[1], __ATOMIC_SEQ_CST);
  return h > 0 ? (uint32_t)wtc_slot_word(h & WTC_INDEX_MASK) & WTC_STATE_MASK : 0;
}

/* Until `*word` moves past `from` (deadline 10 s). */
static void moves(volatile int *word, int from) {
  long long until = now_ms(CLOCK_MONOTONIC) + 10000;
  while (LOAD(word) <= from) CHECK(now_ms(CLOCK_MONOTONIC) < until);
}

/* A guarded wait that no stop has asked for waits (here until its deadline). */
static void waits_out(void) {
  pthread_mutex_lock(&sm);
  struct timespec at = in_ms(CLOCK_REALTIME, 30);
  CHECK_EQ(pthread_cond_timedwait(&sc, &sm, &at), ETIMEDOUT);
  pthread_mutex_unlock(&sm);
}

int main(void) {
  CHECK_EQ(wtp_cond_stop_guard(&sc), 0);
  CHECK_EQ(wtp_cond_stop_guard(&sc), 0); /* again: the same entry */
  CHECK_EQ(wtp_stop_signal(&request, 1), 0);
  CHECK_EQ(wtp_stop_signal(&breaker, 1), 0);
  CHECK_EQ(wtp_stop_signal((volatile int *)2, 1), EINVAL);
  waits_out();
  puts("ok guard");

  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, holder, NULL), 0);
  moves(&progress, 0);
  int32_t h = wtp_core_handle();
  for (int round = 0; round < 20; round++) {
    int w = LOAD(&waits), p = LOAD(&progress);
    CHECK_EQ(wtc_stop(h, 5000), WTC_OK); /* the holder polls nothing: only the signals bring it to a wait */
    CHECK_EQ(state_of(t), WTC_ST_SUSPENDED);
    CHECK_EQ(wtc_start(h), WTC_OK);
    moves(&waits, w); /* its wait ended: nobody but the stop's end could end it */
    moves(&progress, p);
  }
  puts("ok stopped");

  /* the stop times out while the holder is in a long call; it reads the request after the world runs again */
  STORE(&busy_ms, 300);
  moves(&in_call, 0);
  int w = LOAD(&waits);
  CHECK_EQ(wtc_stop(h, 20), WTC_E_TIMEOUT);
  moves(&waits, w); /* the stale request made no wait for a stop that is over */
  int p = LOAD(&progress);
  moves(&progress, p);
  waits_out(); /* and the skip consumed what the stop asked */
  puts("ok stale");

  STORE(&quit, 1);
  CHECK_EQ(pthread_join(t, NULL), 0);
  puts("done");
  return 0;
}
