/* Sleeping is a blocking wait like any other: clock_nanosleep (and so
 * nanosleep, usleep and sleep, which wasi-libc builds on it) waits detached
 * on a word nobody wakes, instead of in WASI's poll_oneoff, so a stop-the-
 * world parks a sleeping thread and the host needs no poll_oneoff for it.
 * No signals: a sleep is never interrupted (no EINTR, *rem untouched). */
#include <errno.h>
#include <time.h>

#include "internal.h"

int clock_nanosleep(clockid_t c, int flags, const struct timespec *req, struct timespec *rem) {
  (void)rem;
  int clock = wtp_clock_code(c);
  if (clock < 0) return ENOTSUP;
  if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000 || req->tv_sec < 0) return EINVAL;
  int64_t ns = (int64_t)req->tv_sec * 1000000000 + req->tv_nsec;
  int64_t until = flags & TIMER_ABSTIME ? ns : wtp_now_ns(clock) + ns;
  int32_t word = 0;
  for (int64_t left; (left = until - wtp_now_ns(clock)) > 0;) wtp_wait(&word, 0, left);
  return 0;
}
