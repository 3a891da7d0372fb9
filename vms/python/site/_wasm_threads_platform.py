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
sys.platform == "wasi", and os.fork works in the fork-anywhere build, the
one the command runs when WASM_THREADS_PYTHON_FORK=anywhere (docs/PYTHON.md
"fork"); there has_fork_support is True.
"""
import os
import sys


def _threads_start():
    # The stub implementation has no name; thread_pthread.h names itself.
    return sys.thread_info.name == "pthread"


def _fork_works():
    # The default build's os.fork refuses; the variable is what picks the build that forks.
    return _threads_start() and os.environ.get("WASM_THREADS_PYTHON_FORK") == "anywhere"


def _answer_threads(module):
    answer = _threads_start()
    module.can_start_thread = answer
    module._can_start_thread = lambda: answer


def _answer_fork(module):
    module.has_fork_support = True


# The modules whose answers are the platform's, and what sets them once the module has run.
_ANSWERS = {"test.support.threading_helper": _answer_threads}
if _fork_works():
    _ANSWERS["test.support"] = _answer_fork


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
