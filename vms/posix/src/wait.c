/* The one wait every blocking call of the layer goes through, and the plain
 * lock word built on it. A thread that waits is detached from the core for
 * the whole wait, so a stop-the-world parks it instead of waiting for it; it
 * re-attaches (which blocks while the world is stopped) before it looks at the
 * word again. A lock is therefore taken only while attached, and never held
 * by a thread parked in a wait. */
#include <errno.h>
#include <wasi/api.h>

#include "internal.h"

int64_t wtp_now_ns(int clock) {
  __wasi_timestamp_t t = 0;
  (void)__wasi_clock_time_get(clock == WTP_MONOTONIC ? __WASI_CLOCKID_MONOTONIC : __WASI_CLOCKID_REALTIME, 1, &t);
  return (int64_t)t;
}

int wtp_clock_code(clockid_t c) {
  if (c == CLOCK_REALTIME) return WTP_REALTIME;
  if (c == CLOCK_MONOTONIC) return WTP_MONOTONIC;
  return -1;
}

int64_t wtp_remaining_ns(int clock, const struct timespec *abstime) {
  if (!abstime) return -1;
  int64_t at = (int64_t)abstime->tv_sec * 1000000000 + abstime->tv_nsec;
  int64_t left = at - wtp_now_ns(clock);
  return left > 0 ? left : 0;
}

/* Only the owner moves its slot ATTACHED <-> DETACHED, so its own word says
 * which it is (a STOP bit may be set on an attached slot: detach honours it). */
static int attached(int32_t h) {
  return h > 0 && (LOAD(wtc_slot_word_ptr(h)) & WTC_STATE_MASK) == WTC_ST_ATTACHED;
}

int wtp_wait(volatile int32_t *word, int32_t expect, int64_t timeout_ns) {
  if (timeout_ns == 0) return LOAD(word) == expect ? ETIMEDOUT : 0;
  int32_t h = wtp_handle();
  int was = attached(h);
  if (was) wtc_detach(h);
  int r = __builtin_wasm_memory_atomic_wait32((int32_t *)word, expect, timeout_ns < 0 ? -1 : timeout_ns);
  if (was) wtc_attach(h);
  return r == 2 ? ETIMEDOUT : 0;
}

void wtp_wake(volatile int32_t *word, uint32_t count) {
  __builtin_wasm_memory_atomic_notify((int32_t *)word, count);
}

void wtp_lock(volatile int32_t *word) {
  int32_t c = 0;
  if (CAS(word, &c, 1)) return;
  while (XCHG(word, 2) != 0) wtp_wait(word, 2, -1);
}

void wtp_unlock(volatile int32_t *word) {
  if (XCHG(word, 0) == 2) wtp_wake(word, 1);
}

int sched_yield(void) {
  /* A zero-length wait gives other workers the core without detaching. */
  int32_t h = wtp_handle();
  if (h > 0) wtc_poll_fast(h);
  return 0;
}
