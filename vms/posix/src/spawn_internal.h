/* The spawned children (spawn.c), for waitpid, wait and kill (fork.c, proc.c),
 * which take them beside fork children. */
#ifndef WTP_SPAWN_INTERNAL_H
#define WTP_SPAWN_INTERNAL_H
#include <stdint.h>
#include <sys/types.h>

/* Whether pid is an unreaped spawned child. */
int wtp_spawned_is_child(pid_t pid);
/* waitpid of spawned child pid: pid (status set), 0 while it runs (nohang), -1 with errno ECHILD. */
int wtp_spawned_wait(pid_t pid, int *status, int nohang);
/* Reaps a spawned child that has exited: its pid (status set), or 0 (*running: how many run). */
int wtp_spawned_wait_any(int *status, int *running);
/* Exits of spawned children so far, and a wait until that count moves past `seen` (or timeout_ns; < 0: none). */
int32_t wtp_spawned_exits(void);
void wtp_spawned_wait_exit(int32_t seen, int64_t timeout_ns);
/* kill() of a spawned child: 0, or -1 with errno. */
int wtp_spawned_kill(pid_t pid, int sig);

#endif
