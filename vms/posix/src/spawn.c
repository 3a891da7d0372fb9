/* posix_spawn on the layer: the host starts the program as a process of its
 * own (vms/posix/host/spawn.ts; under Node an OS process, in a page ENOSYS),
 * and the child is this process's as a fork child is: waitpid, wait and kill
 * take both (fork.c and proc.c ask here first). The file actions are played
 * on the child's fds 0-2 only, which the host hands over: a pipe end
 * (pipe.c), an open file, or the parent's own stdio. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "spawn_internal.h"

extern char **environ;

/* What the host reads (vms/posix/host/spawn.ts SpawnRequest, by offset). */
struct request {
  const char *path;       /* +0 */
  char *const *argv;      /* +4 */
  char *const *envp;      /* +8 */
  const char *cwd;        /* +12 */
  int32_t stdio[3];       /* +16 the parent's fd that becomes the child's 0, 1, 2; -1: closed */
  int32_t flags;          /* +28 REQ_* */
  int32_t *status;        /* +32 the host stores the wait status here, then wakes it */
  int32_t *exits;         /* +36 and adds 1 here, and wakes it */
  int32_t search;         /* +40 1: find `path` on the child's PATH (posix_spawnp) */
};
enum { REQ_NEW_SESSION = 1 };

/* The child's pid (> 0), or -errno (ENOENT, EACCES: the program; ENOSYS: this host starts no process). A NULL
 * request asks only whether the host starts processes: 0, or -ENOSYS. */
int32_t wtp_host_process_spawn(struct request *r) __attribute__((import_module("wtp_io"), import_name("spawn")));
/* Ends a running spawned child with signal `sig` (the host's own kill): 0 or -errno. */
int32_t wtp_host_process_kill(int32_t pid, int32_t sig) __attribute__((import_module("wtp_io"), import_name("kill")));

/* ---- the spawned children ------------------------------------------------ */

/* A spawned child's record, on the list under children_word. The host stores
 * its wait status once (RUNNING -> the status, never back), then adds 1 to
 * `exits` and wakes it; a waiter reads `exits` before it looks at a status and
 * waits on `exits` from that count, so no exit is missed between the look and
 * the wait. Waiters never wait on a record's own word: a record is freed by the
 * waiter that reaps it, and a second waiter for the same pid may still be on
 * its way to the wait. */
struct child {
  int32_t pid;
  int32_t status; /* RUNNING until the host stores the wait status */
  struct child *next;
};
#define RUNNING INT32_MIN

static struct child *children;
static int32_t children_word;
/* Exits of spawned children so far (the host's count): every wait waits on it. */
static int32_t exits;

static struct child **find(pid_t pid) {
  struct child **p = &children;
  while (*p && (*p)->pid != pid) p = &(*p)->next;
  return p;
}

int wtp_spawned_is_child(pid_t pid) {
  wtp_lock(&children_word);
  int is = *find(pid) != NULL;
  wtp_unlock(&children_word);
  return is;
}

int32_t wtp_spawned_exits(void) { return LOAD(&exits); }

/* Reaps `c` (unlinked, freed); its wait status. Under children_word. */
static int reap(struct child **p) {
  struct child *c = *p;
  int ws = LOAD(&c->status);
  *p = c->next;
  free(c);
  return ws;
}

int wtp_spawned_wait(pid_t pid, int *status, int nohang) {
  for (;;) {
    int32_t seen = LOAD(&exits);
    wtp_lock(&children_word);
    struct child **p = find(pid);
    if (!*p) {
      wtp_unlock(&children_word);
      errno = ECHILD;
      return -1;
    }
    struct child *c = *p;
    if (LOAD(&c->status) != RUNNING) {
      int ws = reap(p);
      wtp_unlock(&children_word);
      if (status) *status = ws;
      return pid;
    }
    wtp_unlock(&children_word);
    if (nohang) return 0;
    wtp_wait(&exits, seen, -1);
  }
}

int wtp_spawned_wait_any(int *status, int *running) {
  wtp_lock(&children_word);
  *running = 0;
  for (struct child **p = &children; *p; p = &(*p)->next) {
    if (LOAD(&(*p)->status) == RUNNING) {
      (*running)++;
      continue;
    }
    pid_t pid = (*p)->pid;
    int ws = reap(p);
    wtp_unlock(&children_word);
    if (status) *status = ws;
    return pid;
  }
  wtp_unlock(&children_word);
  return 0;
}

void wtp_spawned_wait_exit(int32_t seen, int64_t timeout_ns) { wtp_wait(&exits, seen, timeout_ns); }

int wtp_spawned_kill(pid_t pid, int sig) {
  int32_t r = wtp_host_process_kill(pid, sig);
  if (r < 0) {
    errno = -r;
    return -1;
  }
  return 0;
}

/* A fork child has none of its parent's spawned children (pipe.c: nor pipe ends). */
void wtp_spawned_after_fork_child(void) {
  STORE(&children_word, 0);
  children = NULL;
}

/* ---- attributes: kept, read back; only SETSID acts ------------------------ */

int posix_spawnattr_init(posix_spawnattr_t *a) {
  memset(a, 0, sizeof *a);
  return 0;
}
int posix_spawnattr_destroy(posix_spawnattr_t *a) {
  (void)a;
  return 0;
}
int posix_spawnattr_setflags(posix_spawnattr_t *a, short flags) {
  if ((unsigned short)flags > 255) return EINVAL;
  a->__flags = flags;
  return 0;
}
int posix_spawnattr_getflags(const posix_spawnattr_t *a, short *flags) {
  *flags = (short)a->__flags;
  return 0;
}
int posix_spawnattr_setpgroup(posix_spawnattr_t *a, pid_t pgrp) {
  a->__pgrp = pgrp;
  return 0;
}
int posix_spawnattr_getpgroup(const posix_spawnattr_t *a, pid_t *pgrp) {
  *pgrp = a->__pgrp;
  return 0;
}
int posix_spawnattr_setsigmask(posix_spawnattr_t *a, const sigset_t *mask) {
  a->__mask = *mask;
  return 0;
}
int posix_spawnattr_getsigmask(const posix_spawnattr_t *a, sigset_t *mask) {
  *mask = a->__mask;
  return 0;
}
int posix_spawnattr_setsigdefault(posix_spawnattr_t *a, const sigset_t *def) {
  a->__def = *def;
  return 0;
}
int posix_spawnattr_getsigdefault(const posix_spawnattr_t *a, sigset_t *def) {
  *def = a->__def;
  return 0;
}

/* ---- file actions ---------------------------------------------------------- */

enum { ACT_OPEN, ACT_CLOSE, ACT_DUP2, ACT_CHDIR };
struct __wtp_spawn_action {
  int kind, fd, newfd, oflag;
  mode_t mode;
  char *path;
};

int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa) {
  memset(fa, 0, sizeof *fa);
  return 0;
}

int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa) {
  for (int i = 0; i < fa->__count; i++) free(fa->__actions[i].path);
  free(fa->__actions);
  memset(fa, 0, sizeof *fa);
  return 0;
}

static int add(posix_spawn_file_actions_t *fa, struct __wtp_spawn_action a, const char *path) {
  if (a.fd < 0 || (a.kind == ACT_DUP2 && a.newfd < 0)) return EBADF;
  if (fa->__count == fa->__room) {
    int room = fa->__room ? 2 * fa->__room : 4;
    struct __wtp_spawn_action *grown = realloc(fa->__actions, room * sizeof *grown);
    if (!grown) return ENOMEM;
    fa->__actions = grown;
    fa->__room = room;
  }
  if (path && !(a.path = strdup(path))) return ENOMEM;
  fa->__actions[fa->__count++] = a;
  return 0;
}

int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd, const char *path, int oflag, mode_t mode) {
  return add(fa, (struct __wtp_spawn_action){ACT_OPEN, fd, 0, oflag, mode, NULL}, path);
}
int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd) {
  return add(fa, (struct __wtp_spawn_action){ACT_CLOSE, fd, 0, 0, 0, NULL}, NULL);
}
int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd) {
  return add(fa, (struct __wtp_spawn_action){ACT_DUP2, fd, newfd, 0, 0, NULL}, NULL);
}
int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa, const char *path) {
  return add(fa, (struct __wtp_spawn_action){ACT_CHDIR, 0, 0, 0, 0, NULL}, path);
}

/* ---- spawn ----------------------------------------------------------------- */

/* A path the host can take: `p` as is when absolute, else under `cwd`. Into buf (PATH_MAX). */
static const char *absolute(const char *cwd, const char *p, char *buf) {
  if (p[0] == '/') return p;
  size_t n = strlen(cwd);
  if (n + 1 + strlen(p) + 1 > PATH_MAX) return NULL;
  memcpy(buf, cwd, n);
  buf[n] = '/';
  strcpy(buf + n + 1, p);
  return buf;
}

int wtp_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *cwd, const int stdio[3],
              int flags, int search) {
  static char root[] = "/";
  char cwd_buf[PATH_MAX], path_buf[PATH_MAX];
  if (!cwd) cwd = getcwd(cwd_buf, sizeof cwd_buf) ? cwd_buf : root;
  /* posix_spawn takes a relative path as it is (from the child's directory); posix_spawnp searches PATH for a bare name */
  int bare = search && !strchr(path, '/');
  const char *program = bare ? path : absolute(cwd, path, path_buf);
  if (!program) return ENAMETOOLONG;
  struct child *c = malloc(sizeof *c);
  if (!c) return ENOMEM;
  c->pid = 0;
  c->status = RUNNING;
  struct request r = {program, argv, envp ? envp : environ, cwd, {stdio[0], stdio[1], stdio[2]},
                      flags & WTP_SPAWN_SETSID ? REQ_NEW_SESSION : 0, &c->status, &exits, bare};
  /* listed before the host starts it: its exit may come before this thread runs again */
  wtp_lock(&children_word);
  c->next = children;
  children = c;
  wtp_unlock(&children_word);
  int32_t got = wtp_host_process_spawn(&r);
  wtp_lock(&children_word);
  if (got > 0) c->pid = got;
  else {
    struct child **p = &children;
    while (*p != c) p = &(*p)->next;
    *p = c->next;
    free(c);
  }
  wtp_unlock(&children_word);
  if (got <= 0) return got < 0 ? -got : EIO;
  if (pid) *pid = got;
  return 0;
}

int wtp_spawn_available(void) { return wtp_host_process_spawn(NULL) == 0; }

/* The file actions played on the child's fds 0-2 (a source fd above 2 is the parent's), then wtp_spawn. */
static int spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[], int search) {
  static char root[] = "/";
  char cwd_buf[PATH_MAX], chdir_buf[PATH_MAX], path_buf[PATH_MAX];
  const char *cwd = getcwd(cwd_buf, sizeof cwd_buf) ? cwd_buf : root;
  int stdio[3] = {0, 1, 2};
  int opened[3], n_opened = 0, e = 0;
  for (int i = 0; fa && i < fa->__count && !e; i++) {
    const struct __wtp_spawn_action *a = &fa->__actions[i];
    int source = a->fd <= 2 ? stdio[a->fd] : a->fd;
    switch (a->kind) {
      case ACT_CLOSE:
        if (a->fd <= 2) stdio[a->fd] = -1;
        break;
      case ACT_DUP2:
        if (source < 0) e = EBADF;
        else if (a->newfd <= 2) stdio[a->newfd] = source;
        break;
      case ACT_OPEN: {
        if (a->fd > 2) break;
        const char *p = absolute(cwd, a->path, path_buf);
        int fd = p && n_opened < 3 ? open(p, a->oflag, a->mode) : -1;
        if (fd < 0) {
          e = p ? errno : ENAMETOOLONG;
          break;
        }
        opened[n_opened++] = fd;
        stdio[a->fd] = fd;
        break;
      }
      case ACT_CHDIR: {
        const char *p = absolute(cwd, a->path, chdir_buf);
        if (!p) e = ENAMETOOLONG;
        else cwd = p;
        break;
      }
    }
  }
  if (!e) e = wtp_spawn(pid, path, argv, envp, cwd, stdio, attr && (attr->__flags & POSIX_SPAWN_SETSID) ? WTP_SPAWN_SETSID : 0, search);
  for (int i = 0; i < n_opened; i++) close(opened[i]);
  return e;
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                char *const argv[], char *const envp[]) {
  return spawn(pid, path, fa, attr, argv, envp, 0);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[]) {
  return spawn(pid, file, fa, attr, argv, envp, 1);
}
