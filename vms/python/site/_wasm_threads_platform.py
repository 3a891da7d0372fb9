"""What this platform can do that CPython's test support infers from sys.platform.

CPython's test support decides that threads cannot start whenever
sys.platform == "wasi" (test.support.threading_helper.can_start_thread). On
this platform they can: _thread runs on real POSIX threads (the pthread layer;
docs/PYTHON.md "CPython's regression tests" says why the answer is given here). sys.platform itself stays "wasi": the standard
library keys process support on it too (subprocess would import
_posixsubprocess, which WASI has no fork or exec for). So the answer is given
where it is asked: when test.support.threading_helper is imported, its
can_start_thread is what the interpreter's own thread implementation says.
No file of the test package is changed. Loaded from a .pth file by site.

The same holds for fork: test.support.has_fork_support is False whenever
sys.platform == "wasi", and os.fork works in the fork builds, the ones the
command runs when WASM_THREADS_PYTHON_FORK is anywhere or listed
(docs/PYTHON.md "fork"); there has_fork_support is True.

And for processes: subprocess refuses on "wasi" (_can_fork_exec) and would
fork and exec through _posixsubprocess, which WASI cannot build. Where the
host starts processes (under Node), subprocess's fork_exec is this module's
_spawn_exec, which starts the child through the pthread layer's posix_spawn
(_wasm_threads.spawn), and test.support.has_subprocess_support is True
(docs/PYTHON.md "Processes").
"""
import errno
import os
import sys


def _threads_start():
    # The stub implementation has no name; thread_pthread.h names itself.
    return sys.thread_info.name == "pthread"


def _fork_works():
    # The default build's os.fork refuses; the variable is what picks a build that forks.
    return _threads_start() and os.environ.get("WASM_THREADS_PYTHON_FORK") in ("anywhere", "listed")


def _answer_threads(module):
    answer = _threads_start()
    module.can_start_thread = answer
    module._can_start_thread = lambda: answer


def _answer_fork(module):
    module.has_fork_support = True


def _spawns():
    try:
        import _wasm_threads
    except ImportError:
        return False
    return _wasm_threads.can_spawn()


def _spawn_exec(args, executable_list, close_fds, fds_to_keep, cwd, env_list,
                p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite,
                errpipe_read, errpipe_write, restore_signals, start_new_session,
                process_group, gid, gids, uid, umask, preexec_fn, allow_vfork):
    """_posixsubprocess.fork_exec's contract, through posix_spawn: the child's
    fds 0-2 are p2cread, c2pwrite and errwrite (-1: this process's own), every
    other fd is closed in it (close_fds; pass_fds are not carried), and a
    failure to start raises here as the child's exec failure would be raised
    from the error pipe."""
    import _wasm_threads
    if preexec_fn is not None:
        raise OSError(errno.ENOTSUP, "preexec_fn: no code runs in a child before it starts here")
    if gid is not None or gids is not None or uid is not None or (process_group is not None and process_group > 0):
        raise OSError(errno.EPERM, "a child's user, groups and process group stay this process's here")
    failure = None
    for executable in executable_list:
        try:
            # env None: the C environment, os.putenv's changes included, as exec without an environment gives
            return _wasm_threads.spawn(executable, args, env_list, cwd, p2cread, c2pwrite, errwrite,
                                       bool(start_new_session), False)
        except OSError as e:
            # as _posixsubprocess: the next directory of PATH after a missing or non-executable one
            failure = failure or e
            if e.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                break
    if cwd is not None and not os.path.isdir(cwd):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), cwd)
    program = args[0] if args else executable_list[0]
    raise type(failure)(failure.errno, failure.strerror, os.fsdecode(program))


def _spawn(mode, file, args, env, search):
    """os.spawn*'s contract (os.py builds it from fork and exec, which this platform has not): a pid for P_NOWAIT, the
    exit code (-signal) for P_WAIT. A program that cannot start raises OSError (natively its child exits with 127)."""
    import _wasm_threads
    if not isinstance(args, (tuple, list)):
        raise TypeError('argv must be a tuple or a list')
    if not args or not args[0]:
        raise ValueError('argv first element cannot be empty')
    env_list = None
    if env is not None:
        env_list = []
        for k, v in env.items():
            k, v = os.fsencode(k), os.fsencode(v)
            if not k or b"=" in k:
                raise ValueError("illegal environment variable name")
            env_list.append(k + b"=" + v)
    pid = _wasm_threads.spawn(file, list(args), env_list, None, -1, -1, -1, False, search)
    if mode == os.P_NOWAIT:
        return pid
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _add_spawn_functions():
    """os.spawnv and its kin, and their P_* modes, where processes start."""
    functions = {
        "spawnv": lambda mode, file, args: _spawn(mode, file, args, None, False),
        "spawnve": lambda mode, file, args, env: _spawn(mode, file, args, env, False),
        "spawnvp": lambda mode, file, args: _spawn(mode, file, args, None, True),
        "spawnvpe": lambda mode, file, args, env: _spawn(mode, file, args, env, True),
        "spawnl": lambda mode, file, *args: _spawn(mode, file, args, None, False),
        "spawnle": lambda mode, file, *args: _spawn(mode, file, args[:-1], args[-1], False),
        "spawnlp": lambda mode, file, *args: _spawn(mode, file, args, None, True),
        "spawnlpe": lambda mode, file, *args: _spawn(mode, file, args[:-1], args[-1], True),
    }
    os.P_WAIT, os.P_NOWAIT, os.P_NOWAITO = 0, 1, 1
    for name, function in functions.items():
        function.__name__ = function.__qualname__ = name
        setattr(os, name, function)
    os.__all__.extend(["P_WAIT", "P_NOWAIT", "P_NOWAITO", *functions])


def _answer_subprocess(module):
    names = {
        "_can_fork_exec": True, "_fork_exec": _spawn_exec, "_USE_POSIX_SPAWN": False,
        "_waitpid": os.waitpid, "_waitstatus_to_exitcode": os.waitstatus_to_exitcode,
        "_WIFSTOPPED": os.WIFSTOPPED, "_WSTOPSIG": os.WSTOPSIG, "_WNOHANG": os.WNOHANG,
    }
    for name, value in names.items():
        setattr(module, name, value)
    # Popen's methods that __del__ calls bind these as default arguments, None on "wasi": bound again here
    for function in vars(module.Popen).values():
        code = getattr(function, "__code__", None)
        if code is None or not function.__defaults__:
            continue
        params = code.co_varnames[code.co_argcount - len(function.__defaults__):code.co_argcount]
        function.__defaults__ = tuple(names.get(p, d) if d is None else d for p, d in zip(params, function.__defaults__))


def _answer_support(module):
    if _fork_works():
        _answer_fork(module)
    module.has_subprocess_support = True


# The modules whose answers are the platform's, and what sets them once the module has run.
_ANSWERS = {"test.support.threading_helper": _answer_threads}
if _fork_works():
    _ANSWERS["test.support"] = _answer_fork
if _threads_start() and _spawns():
    _ANSWERS["subprocess"] = _answer_subprocess
    _ANSWERS["test.support"] = _answer_support
    if not hasattr(os, "spawnv"):
        _add_spawn_functions()


class _Loader:
    """The module's own loader, which then sets the platform's answer."""

    def __init__(self, loader, answer):
        self._loader = loader
        self._answer = answer

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._answer(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        answer = _ANSWERS.get(name)
        if answer is None:
            return None
        for finder in sys.meta_path:
            if finder is _Finder or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _Loader(spec.loader, answer)
                return spec
        return None


if _threads_start() and _Finder not in sys.meta_path:
    sys.meta_path.insert(0, _Finder)
