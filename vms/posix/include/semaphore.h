/* wasi-libc's <semaphore.h> (musl's declarations and sem_t) plus
 * sem_clockwait, which the layer also provides (CPython prefers it). */
#ifndef WTP_SEMAPHORE_H
#define WTP_SEMAPHORE_H
#include_next <semaphore.h>
#include <time.h>
#ifdef __cplusplus
extern "C" {
#endif
int sem_clockwait(sem_t *__restrict, clockid_t, const struct timespec *__restrict);
#ifdef __cplusplus
}
#endif
#endif
