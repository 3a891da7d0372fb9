/* POSIX threads over wasm-threads-core (docs/EMBEDDING.md, "POSIX threads").
 * wasi-libc (2022) ships the pthread types (musl's, in <bits/alltypes.h>,
 * which <sys/types.h> already uses) but no <pthread.h>: this header declares
 * what the layer (vms/posix/src) implements, over those same types. A name
 * that is not declared here is not provided, so a configure check finds it
 * missing at link time. */
#ifndef _PTHREAD_H
#define _PTHREAD_H
#ifdef __cplusplus
extern "C" {
#endif

#define __NEED_time_t
#define __NEED_struct_timespec
#define __NEED_size_t
#define __NEED_pthread_t
#define __NEED_pthread_once_t
#define __NEED_pthread_key_t
#define __NEED_pthread_spinlock_t
#define __NEED_pthread_attr_t
#define __NEED_pthread_mutex_t
#define __NEED_pthread_mutexattr_t
#define __NEED_pthread_cond_t
#define __NEED_pthread_condattr_t
#define __NEED_pthread_rwlock_t
#define __NEED_pthread_rwlockattr_t
#include <bits/alltypes.h>
#include <time.h>
#include <sched.h>

#define PTHREAD_CREATE_JOINABLE 0
#define PTHREAD_CREATE_DETACHED 1

#define PTHREAD_MUTEX_NORMAL 0
#define PTHREAD_MUTEX_DEFAULT 0
#define PTHREAD_MUTEX_RECURSIVE 1
#define PTHREAD_MUTEX_ERRORCHECK 2

#define PTHREAD_PROCESS_PRIVATE 0
#define PTHREAD_PROCESS_SHARED 1

#define PTHREAD_SCOPE_SYSTEM 0
#define PTHREAD_SCOPE_PROCESS 1

#define PTHREAD_MUTEX_INITIALIZER {{{0}}}
#define PTHREAD_RWLOCK_INITIALIZER {{{0}}}
#define PTHREAD_COND_INITIALIZER {{{0}}}
#define PTHREAD_ONCE_INIT 0

#define PTHREAD_CANCELED ((void *)-1)

#ifndef PTHREAD_KEYS_MAX
#define PTHREAD_KEYS_MAX 128
#endif
#ifndef PTHREAD_DESTRUCTOR_ITERATIONS
#define PTHREAD_DESTRUCTOR_ITERATIONS 4
#endif
#ifndef PTHREAD_STACK_MIN
#define PTHREAD_STACK_MIN 16384
#endif

int pthread_create(pthread_t *__restrict, const pthread_attr_t *__restrict, void *(*)(void *), void *__restrict);
int pthread_detach(pthread_t);
_Noreturn void pthread_exit(void *);
int pthread_join(pthread_t, void **);
pthread_t pthread_self(void);
int pthread_equal(pthread_t, pthread_t);
#ifndef __cplusplus
#define pthread_equal(x, y) ((x) == (y))
#endif

int pthread_once(pthread_once_t *, void (*)(void));

int pthread_mutex_init(pthread_mutex_t *__restrict, const pthread_mutexattr_t *__restrict);
int pthread_mutex_lock(pthread_mutex_t *);
int pthread_mutex_unlock(pthread_mutex_t *);
int pthread_mutex_trylock(pthread_mutex_t *);
int pthread_mutex_timedlock(pthread_mutex_t *__restrict, const struct timespec *__restrict);
int pthread_mutex_clocklock(pthread_mutex_t *__restrict, clockid_t, const struct timespec *__restrict);
int pthread_mutex_destroy(pthread_mutex_t *);

int pthread_cond_init(pthread_cond_t *__restrict, const pthread_condattr_t *__restrict);
int pthread_cond_destroy(pthread_cond_t *);
int pthread_cond_wait(pthread_cond_t *__restrict, pthread_mutex_t *__restrict);
int pthread_cond_timedwait(pthread_cond_t *__restrict, pthread_mutex_t *__restrict, const struct timespec *__restrict);
int pthread_cond_clockwait(pthread_cond_t *__restrict, pthread_mutex_t *__restrict, clockid_t, const struct timespec *__restrict);
int pthread_cond_broadcast(pthread_cond_t *);
int pthread_cond_signal(pthread_cond_t *);

int pthread_rwlock_init(pthread_rwlock_t *__restrict, const pthread_rwlockattr_t *__restrict);
int pthread_rwlock_destroy(pthread_rwlock_t *);
int pthread_rwlock_rdlock(pthread_rwlock_t *);
int pthread_rwlock_tryrdlock(pthread_rwlock_t *);
int pthread_rwlock_timedrdlock(pthread_rwlock_t *__restrict, const struct timespec *__restrict);
int pthread_rwlock_wrlock(pthread_rwlock_t *);
int pthread_rwlock_trywrlock(pthread_rwlock_t *);
int pthread_rwlock_timedwrlock(pthread_rwlock_t *__restrict, const struct timespec *__restrict);
int pthread_rwlock_unlock(pthread_rwlock_t *);

int pthread_attr_init(pthread_attr_t *);
int pthread_attr_destroy(pthread_attr_t *);
int pthread_attr_getdetachstate(const pthread_attr_t *, int *);
int pthread_attr_setdetachstate(pthread_attr_t *, int);
int pthread_attr_getstacksize(const pthread_attr_t *__restrict, size_t *__restrict);
int pthread_attr_setstacksize(pthread_attr_t *, size_t);
int pthread_attr_getguardsize(const pthread_attr_t *__restrict, size_t *__restrict);
int pthread_attr_setguardsize(pthread_attr_t *, size_t);
int pthread_attr_getscope(const pthread_attr_t *__restrict, int *__restrict);
int pthread_attr_setscope(pthread_attr_t *, int);

int pthread_mutexattr_init(pthread_mutexattr_t *);
int pthread_mutexattr_destroy(pthread_mutexattr_t *);
int pthread_mutexattr_gettype(const pthread_mutexattr_t *__restrict, int *__restrict);
int pthread_mutexattr_settype(pthread_mutexattr_t *, int);
int pthread_mutexattr_getpshared(const pthread_mutexattr_t *__restrict, int *__restrict);
int pthread_mutexattr_setpshared(pthread_mutexattr_t *, int);

int pthread_condattr_init(pthread_condattr_t *);
int pthread_condattr_destroy(pthread_condattr_t *);
int pthread_condattr_setclock(pthread_condattr_t *, clockid_t);
int pthread_condattr_getclock(const pthread_condattr_t *__restrict, clockid_t *__restrict);
int pthread_condattr_setpshared(pthread_condattr_t *, int);
int pthread_condattr_getpshared(const pthread_condattr_t *__restrict, int *__restrict);

int pthread_rwlockattr_init(pthread_rwlockattr_t *);
int pthread_rwlockattr_destroy(pthread_rwlockattr_t *);

int pthread_key_create(pthread_key_t *, void (*)(void *));
int pthread_key_delete(pthread_key_t);
void *pthread_getspecific(pthread_key_t);
int pthread_setspecific(pthread_key_t, const void *);

/* The layer's own: the calling thread's core handle (wasm_threads_core.h), for
 * a VM that polls (wtc_poll_fast) or detaches around its own blocking work;
 * 0 on a thread the host has not registered. */
int wtp_core_handle(void);
/* Around the VM's own blocking work (CPython: a region that released the GIL):
 * detaches the calling thread if it is attached, so a stop-the-world does not
 * wait for it, and says whether it did; wtp_blocking_end(that) attaches it
 * again (waiting while the world is stopped). Inside, touch no state a stop
 * protects; libc is fine (its locks wait detached too). */
int wtp_blocking_begin(void);
void wtp_blocking_end(int was_attached);
/* A VM whose running threads never poll the core (CPython's eval loop),
 * under stop-the-world (docs/EMBEDDING.md "A VM lock handed over on
 * request"); register before threads run. wtp_stop_signal: every stop that
 * finds a thread running stores `value` into `*word` (a flag the VM's running
 * thread checks, which sends it to a wait). wtp_cond_stop_guard: for the wait
 * in which a thread that gave its lock up on request waits for a taker, who
 * may not exist when the request was a stop's: the end of every stop wakes
 * the waiters of `c`, and a wait on `c` begun while no stop is requested,
 * after a stop asked, returns at once (the VM then takes its lock back, which
 * consumes the request). 0, or EINVAL (not a word of the program's memory) or
 * EAGAIN (no room left). */
int wtp_stop_signal(volatile int *word, int value);
int wtp_cond_stop_guard(pthread_cond_t *c);
/* libc's locks across a fork (the VM's fork path; docs/EMBEDDING.md). */
void wtp_before_fork(void);
void wtp_after_fork_parent(void);
void wtp_after_fork_child(int handle);
/* fork where no frame of the caller lives on in the child: the child runs the
 * program's export wtp_fork_child(arg) instead of returning (needs the host's
 * wtp_fork imports, vms/posix/host/fork.ts). The child's pid, or -1 and errno. */
int wtp_fork(int arg);
/* The child's exit status (128 + n when signal n ended it), or -1 and errno; with nohang, 0 and *running = 1 while it runs. */
int wtp_waitpid(int pid, int nohang, int *running);

#ifdef __cplusplus
}
#endif
#endif
