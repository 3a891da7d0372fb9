/* An empty path names no file (POSIX: ENOENT), but wasi-libc's chdir support
 * resolves "" to the working directory, so io.open("") opened it and
 * os.remove("") / os.rename("", x) acted on it. Every path call of wasi-libc
 * (open, stat, unlink, rmdir, rename, access, mkdir, opendir, chdir) finds its
 * directory descriptor through __wasilibc_find_relpath_alloc; the build links
 * with --wrap=__wasilibc_find_relpath_alloc, so they come here first. An empty
 * path keeps the descriptor the working directory resolves to but stays empty,
 * and the WASI call refuses it with ENOENT as Linux's openat(fd, "") does
 * (vms/wasi/wasi.ts). Returning -1 here would not do: wasi-libc then
 * reports ENOTCAPABLE. */
#include <stddef.h>

int __real___wasilibc_find_relpath_alloc(const char *path, const char **abs_prefix, char **relative_buf,
                                         size_t *relative_buf_len, int can_realloc);

int __wrap___wasilibc_find_relpath_alloc(const char *path, const char **abs_prefix, char **relative_buf,
                                         size_t *relative_buf_len, int can_realloc) {
  int fd = __real___wasilibc_find_relpath_alloc(path[0] ? path : ".", abs_prefix, relative_buf, relative_buf_len,
                                                can_realloc);
  if (fd != -1 && !path[0]) (*relative_buf)[0] = '\0';
  return fd;
}
