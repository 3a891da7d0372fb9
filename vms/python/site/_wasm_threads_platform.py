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
"""
import sys

_MODULE = "test.support.threading_helper"


def _threads_start():
    # The stub implementation has no name; thread_pthread.h names itself.
    return sys.thread_info.name == "pthread"


class _Loader:
    """The module's own loader, which then sets the platform's answer."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        answer = _threads_start()
        module.can_start_thread = answer
        module._can_start_thread = lambda: answer

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != _MODULE:
            return None
        for finder in sys.meta_path:
            if finder is _Finder or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _Loader(spec.loader)
                return spec
        return None


if _threads_start() and _Finder not in sys.meta_path:
    sys.meta_path.insert(0, _Finder)
