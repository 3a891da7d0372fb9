/* The native baseline of scripts/bench-lua-thread-start.ts: pthread_create to
 * the start routine's first instruction, then pthread_join, `n` times; one
 * latency in microseconds a line (CLOCK_MONOTONIC, as the wasm side's
 * thread.clock). Built at bench time with the system's C compiler. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *first_instruction(void *at) {
  *(double *)at = now_us();
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  for (int i = 0; i < n; i++) {
    double at = 0, t0 = now_us();
    pthread_t t;
    if (pthread_create(&t, NULL, first_instruction, &at) != 0) return 1;
    pthread_join(t, NULL);
    printf("%.3f\n", at - t0);
  }
  return 0;
}
