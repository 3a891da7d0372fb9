/* posix_spawn for programs on the layer (vms/posix/src/spawn.c): the host
 * starts the program as a process of its own (under Node, an OS process;
 * docs/EMBEDDING.md "Processes and pipes"). wasi-libc (2022) has no
 * <spawn.h>: WASI has no processes. The child gets fds 0-2 as the file
 * actions leave them (a pipe end of pipe(), a file, or the parent's own);
 * descriptors above 2 are not carried. Attributes are kept and, but for
 * POSIX_SPAWN_SETSID, not acted on. */
#ifndef _SPAWN_H
#define _SPAWN_H
#ifdef __cplusplus
extern "C" {
#endif
#include <sched.h>
#include <signal.h>
#include <sys/types.h>

#define POSIX_SPAWN_RESETIDS 1
#define POSIX_SPAWN_SETPGROUP 2
#define POSIX_SPAWN_SETSIGDEF 4
#define POSIX_SPAWN_SETSIGMASK 8
#define POSIX_SPAWN_SETSCHEDPARAM 16
#define POSIX_SPAWN_SETSCHEDULER 32
#define POSIX_SPAWN_USEVFORK 64
#define POSIX_SPAWN_SETSID 128

typedef struct {
  int __flags;
  pid_t __pgrp;
  sigset_t __def, __mask;
  int __prio, __pol;
} posix_spawnattr_t;

typedef struct {
  struct __wtp_spawn_action *__actions;
  int __count, __room;
} posix_spawn_file_actions_t;

int posix_spawn(pid_t *__restrict pid, const char *__restrict path, const posix_spawn_file_actions_t *actions,
                const posix_spawnattr_t *__restrict attr, char *const argv[], char *const envp[]);
int posix_spawnp(pid_t *__restrict pid, const char *__restrict file, const posix_spawn_file_actions_t *actions,
                 const posix_spawnattr_t *__restrict attr, char *const argv[], char *const envp[]);

int posix_spawnattr_init(posix_spawnattr_t *attr);
int posix_spawnattr_destroy(posix_spawnattr_t *attr);
int posix_spawnattr_setflags(posix_spawnattr_t *attr, short flags);
int posix_spawnattr_getflags(const posix_spawnattr_t *__restrict attr, short *__restrict flags);
int posix_spawnattr_setpgroup(posix_spawnattr_t *attr, pid_t pgrp);
int posix_spawnattr_getpgroup(const posix_spawnattr_t *__restrict attr, pid_t *__restrict pgrp);
int posix_spawnattr_setsigmask(posix_spawnattr_t *__restrict attr, const sigset_t *__restrict mask);
int posix_spawnattr_getsigmask(const posix_spawnattr_t *__restrict attr, sigset_t *__restrict mask);
int posix_spawnattr_setsigdefault(posix_spawnattr_t *__restrict attr, const sigset_t *__restrict def);
int posix_spawnattr_getsigdefault(const posix_spawnattr_t *__restrict attr, sigset_t *__restrict def);

int posix_spawn_file_actions_init(posix_spawn_file_actions_t *actions);
int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *actions);
int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *__restrict actions, int fd, const char *__restrict path, int oflag, mode_t mode);
int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *actions, int fd);
int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *actions, int fd, int newfd);
/* glibc's (2.29) and musl's: the child's working directory. */
int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *__restrict actions, const char *__restrict path);

/* The layer's own, under posix_spawn: the child's fds 0-2 are the parent's
 * fds stdio[0..2] (-1: closed) as they are now, its working directory `cwd`
 * (NULL: the caller's); `search`: find a bare `path` on PATH. 0 or an errno,
 * as posix_spawn. */
#define WTP_SPAWN_SETSID 1
int wtp_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *cwd, const int stdio[3],
              int flags, int search);
/* Whether the host starts processes at all (1), or every spawn fails with ENOSYS (0: a page, a host without a spawner). */
int wtp_spawn_available(void);

#ifdef __cplusplus
}
#endif
#endif
