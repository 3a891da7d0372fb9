/* _wasm_threads: what this platform gives Python beyond WASI and CPython's
 * own modules. spawn() starts a program as a process of its own through the
 * pthread layer (wtp_spawn, vms/posix/src/spawn.c): subprocess uses it where
 * CPython's _posixsubprocess would fork and exec, which WASI cannot build
 * (vms/python/site/_wasm_threads_platform.py). The module is built in: it is
 * added to the inittab before the interpreter starts, by a constructor, so
 * no file of CPython changes. */
#include "Python.h"

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>

/* A NULL-terminated array of the items of `seq` as file-system bytes, kept alive by `keep` (a list); NULL on error. */
static char **byte_strings(PyObject *seq, PyObject *keep) {
  PyObject *fast = PySequence_Fast(seq, "spawn: argv and env are sequences of str or bytes");
  if (!fast) return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  char **out = PyMem_RawCalloc((size_t)n + 1, sizeof *out);
  if (!out) {
    Py_DECREF(fast);
    PyErr_NoMemory();
    return NULL;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *bytes = NULL;
    if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(fast, i), &bytes) || PyList_Append(keep, bytes) < 0) {
      Py_XDECREF(bytes);
      Py_DECREF(fast);
      PyMem_RawFree(out);
      return NULL;
    }
    out[i] = PyBytes_AS_STRING(bytes);
    Py_DECREF(bytes);
  }
  Py_DECREF(fast);
  return out;
}

PyDoc_STRVAR(spawn_doc,
"spawn(path, argv, env, cwd, stdin, stdout, stderr, new_session, search) -> pid\n\n"
"Starts `path` with `argv` and `env` (None: this process's environment) in\n"
"`cwd` (None: this process's directory); the child's fds 0, 1 and 2 are this\n"
"process's fds `stdin`, `stdout` and `stderr` (-1: its own 0, 1, 2).\n"
"`search`: find a bare `path` on the child's PATH. The child is this\n"
"process's: os.waitpid and os.kill take its pid. OSError on failure.");

static PyObject *spawn(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *path = NULL, *argv_o, *env_o, *cwd_o, *keep = NULL, *result = NULL;
  int fds[3], new_session, search;
  if (!PyArg_ParseTuple(args, "O&OOOiiipp:spawn", PyUnicode_FSConverter, &path, &argv_o, &env_o, &cwd_o, &fds[0], &fds[1], &fds[2],
                        &new_session, &search))
    return NULL;
  char **argv = NULL, **envp = NULL;
  const char *cwd = NULL;
  if (!(keep = PyList_New(0)) || !(argv = byte_strings(argv_o, keep))) goto done;
  if (env_o != Py_None && !(envp = byte_strings(env_o, keep))) goto done;
  if (cwd_o != Py_None) {
    PyObject *c = NULL;
    if (!PyUnicode_FSConverter(cwd_o, &c) || PyList_Append(keep, c) < 0) {
      Py_XDECREF(c);
      goto done;
    }
    cwd = PyBytes_AS_STRING(c);
    Py_DECREF(c);
  }
  for (int i = 0; i < 3; i++)
    if (fds[i] < 0) fds[i] = i;
  pid_t pid = 0;
  int e;
  Py_BEGIN_ALLOW_THREADS
  e = wtp_spawn(&pid, PyBytes_AS_STRING(path), argv, envp, cwd, fds, new_session ? WTP_SPAWN_SETSID : 0, search);
  Py_END_ALLOW_THREADS
  if (e) {
    errno = e;
    PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
    goto done;
  }
  result = PyLong_FromLong(pid);
done:
  PyMem_RawFree(argv);
  PyMem_RawFree(envp);
  Py_XDECREF(keep);
  Py_XDECREF(path);
  return result;
}

PyDoc_STRVAR(can_spawn_doc, "can_spawn() -> bool\n\nWhether this host starts processes (under Node, a fork child too; not in a page).");

static PyObject *can_spawn(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  return PyBool_FromLong(wtp_spawn_available());
}

static PyMethodDef methods[] = {
  {"spawn", spawn, METH_VARARGS, spawn_doc},
  {"can_spawn", can_spawn, METH_NOARGS, can_spawn_doc},
  {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
  PyModuleDef_HEAD_INIT, "_wasm_threads", "What this platform gives Python beyond WASI (docs/PYTHON.md).", 0, methods,
  NULL, NULL, NULL, NULL,
};

static PyObject *init_module(void) { return PyModuleDef_Init(&module_def); }

/* Before main: the inittab is extended only before the interpreter starts. */
__attribute__((constructor)) static void add_to_inittab(void) {
  if (PyImport_AppendInittab("_wasm_threads", init_module) < 0) abort();
}
