/* Pipes and processes on the layer (vms/posix/src/pipe.c, spawn.c): a pipe's
 * bytes, end of file, EAGAIN, EPIPE and poll; posix_spawn(p) with a child's
 * stdin and stdout on pipes, its exit status, kill, wait for any child, a
 * missing program, a child's directory, and its inherited stdout. Each step
 * prints "ok <step>". A pipe made on one thread is written on another. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

/* Everything `fd` gives until end of file, into buf (NUL-terminated). */
static size_t drain(int fd, char *buf, size_t room) {
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, room - 1 - n);
    CHECK(r >= 0);
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = 0;
  return n;
}

/* A thread that writes to the pipe end its argument names: the process's pipes are every thread's. */
static void *writer(void *arg) {
  int fd = *(int *)arg;
  CHECK_EQ(write(fd, "from a thread", 13), 13);
  CHECK_EQ(close(fd), 0);
  return NULL;
}

/* Starts argv[0] found on PATH with its stdin and stdout as given (-1: this process's own); its pid. */
static pid_t start(char *const argv[], int in, int out, const char *dir) {
  posix_spawn_file_actions_t fa;
  CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
  if (in >= 0) CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, in, 0), 0);
  if (out >= 0) CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, out, 1), 0);
  if (dir) CHECK_EQ(posix_spawn_file_actions_addchdir_np(&fa, dir), 0);
  pid_t pid = 0;
  CHECK_EQ(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
  CHECK(pid > 0);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

static int status_of(pid_t pid) {
  int st = 0;
  CHECK_EQ(waitpid(pid, &st, 0), pid);
  return st;
}

int main(void) {
  static char buf[1 << 18];
  int p[2];

  CHECK_EQ(pipe(p), 0);
  CHECK_EQ(write(p[1], "abc", 3), 3);
  struct pollfd pf = {p[0], POLLIN, 0};
  CHECK_EQ(poll(&pf, 1, 0), 1);
  CHECK_EQ(read(p[0], buf, sizeof buf), 3);
  CHECK_EQ(poll(&pf, 1, 20), 0);
  CHECK_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
  CHECK_EQ(read(p[0], buf, 1), -1);
  CHECK_EQ(errno, EAGAIN);
  CHECK_EQ(close(p[1]), 0);
  CHECK_EQ(read(p[0], buf, 1), 0);
  CHECK_EQ(close(p[0]), 0);
  CHECK_EQ(pipe2(p, O_NONBLOCK), 0);
  memset(buf, 'x', sizeof buf);
  ssize_t filled = write(p[1], buf, sizeof buf);
  CHECK_EQ(filled, 65536);
  CHECK_EQ(write(p[1], buf, 1), -1);
  CHECK_EQ(errno, EAGAIN);
  CHECK_EQ(close(p[0]), 0);
  CHECK_EQ(write(p[1], buf, 1), -1);
  CHECK_EQ(errno, EPIPE);
  CHECK_EQ(close(p[1]), 0);
  CHECK_EQ(pipe(p), 0);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, writer, &p[1]), 0);
  CHECK_EQ(pthread_join(t, NULL), 0);
  CHECK_EQ(drain(p[0], buf, sizeof buf), 13);
  CHECK(strcmp(buf, "from a thread") == 0);
  CHECK_EQ(close(p[0]), 0);
  puts("ok pipe");

  CHECK_EQ(pipe(p), 0);
  char *echo[] = {"echo", "hello", "spawn", NULL};
  pid_t pid = start(echo, -1, p[1], NULL);
  CHECK_EQ(close(p[1]), 0);
  drain(p[0], buf, sizeof buf);
  CHECK_EQ(close(p[0]), 0);
  CHECK(strcmp(buf, "hello spawn\n") == 0);
  int st = status_of(pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  puts("ok spawn-stdout");

  /* 200 KB through cat: more than a ring holds, so its stdin and stdout both wait on this thread's pace */
  int in[2], out[2];
  CHECK_EQ(pipe(in), 0);
  CHECK_EQ(pipe(out), 0);
  char *cat[] = {"cat", NULL};
  pid = start(cat, in[0], out[1], NULL);
  CHECK_EQ(close(in[0]), 0);
  CHECK_EQ(close(out[1]), 0);
  static char back[1 << 18];
  size_t sent = 0, got = 0, total = 200000;
  for (size_t i = 0; i < total; i++) buf[i] = (char)('a' + i % 26);
  while (got < total) {
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {sent < total ? in[1] : -1, POLLOUT, 0}};
    CHECK(poll(fds, 2, 10000) > 0);
    if (fds[1].revents & POLLOUT) {
      ssize_t w = write(in[1], buf + sent, total - sent < 4096 ? total - sent : 4096);
      CHECK(w > 0);
      sent += (size_t)w;
      if (sent == total) CHECK_EQ(close(in[1]), 0);
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      ssize_t r = read(out[0], back + got, sizeof back - got);
      CHECK(r > 0);
      got += (size_t)r;
    }
  }
  CHECK_EQ(read(out[0], back, 1), 0);
  CHECK(memcmp(buf, back, total) == 0);
  CHECK_EQ(close(out[0]), 0);
  st = status_of(pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  puts("ok spawn-stdin");

  char *sh[] = {"sh", "-c", "exit 7", NULL};
  st = status_of(start(sh, -1, -1, NULL));
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
  char *sleeper[] = {"sleep", "30", NULL};
  pid = start(sleeper, -1, -1, NULL);
  CHECK_EQ(waitpid(pid, &st, WNOHANG), 0);
  CHECK_EQ(kill(pid, SIGTERM), 0);
  st = status_of(pid);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
  CHECK_EQ(kill(pid, SIGTERM), -1);
  CHECK_EQ(errno, ESRCH);
  puts("ok status-kill");

  char *quick[] = {"sh", "-c", "exit 3", NULL};
  pid_t a = start(quick, -1, -1, NULL);
  pid_t b = start(quick, -1, -1, NULL);
  pid_t first = wait(&st), second = wait(&st);
  CHECK((first == a && second == b) || (first == b && second == a));
  CHECK(WEXITSTATUS(st) == 3);
  CHECK_EQ(wait(&st), -1);
  CHECK_EQ(errno, ECHILD);
  puts("ok wait-any");

  char *missing[] = {"/nonexistent/program", NULL};
  CHECK_EQ(posix_spawn(&pid, missing[0], NULL, NULL, missing, environ), ENOENT);
  CHECK_EQ(pipe(p), 0);
  char *pwd[] = {"pwd", NULL};
  pid = start(pwd, -1, p[1], "/tmp");
  CHECK_EQ(close(p[1]), 0);
  drain(p[0], buf, sizeof buf);
  CHECK_EQ(close(p[0]), 0);
  CHECK(strcmp(buf, "/tmp\n") == 0);
  status_of(pid);
  puts("ok missing-cwd");

  fflush(stdout);
  char *inherit[] = {"echo", "from the child", NULL};
  st = status_of(start(inherit, -1, -1, NULL));
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  puts("done");
  return 0;
}
