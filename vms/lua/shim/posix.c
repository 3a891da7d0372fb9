/* The POSIX calls Lua's LUA_USE_POSIX configuration makes that wasi-libc
 * (2022) lacks. No processes on WASI: popen and system fail with ENOSYS
 * (io.popen and os.execute report it; os.execute() says no shell).
 * mkstemp/tmpfile create files through the host's preopens (os.tmpname,
 * io.tmpfile). flockfile is the pthread layer's (vms/posix/src/libc.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

FILE *popen(const char *command, const char *mode) {
  (void)command;
  (void)mode;
  errno = ENOSYS;
  return NULL;
}

int pclose(FILE *f) {
  (void)f;
  errno = ECHILD;
  return -1;
}

int system(const char *command) {
  if (command == NULL) return 0; /* no command processor */
  errno = ENOSYS;
  return -1;
}

int mkstemp(char *template) {
  static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t n = strlen(template);
  if (n < 6 || strcmp(template + n - 6, "XXXXXX") != 0) {
    errno = EINVAL;
    return -1;
  }
  for (int attempt = 0; attempt < 100; attempt++) {
    uint8_t bytes[6];
    if (__wasi_random_get(bytes, sizeof bytes) != 0) {
      errno = EIO;
      return -1;
    }
    for (int i = 0; i < 6; i++) template[n - 6 + i] = letters[bytes[i] % (sizeof letters - 1)];
    int fd = open(template, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

FILE *tmpfile(void) {
  char name[] = "/tmp/lua_XXXXXX";
  int fd = mkstemp(name);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "w+");
  if (f == NULL) close(fd);
  unlink(name);
  return f;
}
