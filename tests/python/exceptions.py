# Exceptions: handlers, chaining, groups, custom classes, tracebacks of user frames.
import traceback
import sys


class AppError(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code

    def __str__(self):
        return f"[{self.code}] {self.args[0]}"


def level3(x):
    return {"a": 1}[x]


def level2(x):
    try:
        return level3(x)
    except KeyError as e:
        raise AppError(404, f"no key {x!r}") from e


def level1():
    return level2("b")


try:
    level1()
except AppError as e:
    print("caught", type(e).__name__, e, e.code, repr(e.__cause__), e.__context__ is e.__cause__)
    print("".join(traceback.format_exception(e)), end="")

for exc in (ValueError("v"), TypeError("t"), KeyError("k"), IndexError(3), AttributeError("a"), StopIteration(5)):
    try:
        raise exc
    except (ValueError, TypeError) as e:
        print("group 1", repr(e))
    except LookupError as e:
        print("lookup", repr(e), str(e))
    except Exception as e:
        print("other", type(e).__name__, e.args)
    finally:
        print("finally", type(exc).__name__)


def gen_errors():
    try:
        [].pop()
    except IndexError as e:
        print("IndexError:", e)
    try:
        None.x
    except AttributeError as e:
        print("AttributeError:", e)
    try:
        "a" + 1
    except TypeError as e:
        print("TypeError:", e)
    try:
        undefined_name
    except NameError as e:
        print("NameError:", e)
    try:
        int("x")
    except ValueError as e:
        print("ValueError:", e)
    try:
        {}.__getitem__([])
    except TypeError as e:
        print("TypeError:", e)
    try:
        def f(a, *, b): pass
        f(1, 2)
    except TypeError as e:
        print("TypeError:", e)
    try:
        import no_such_module_xyz
    except ModuleNotFoundError as e:
        print("ModuleNotFoundError:", e, e.name)


gen_errors()

try:
    raise ExceptionGroup("many", [ValueError(1), TypeError(2), ExceptionGroup("inner", [KeyError(3)])])
except* ValueError as eg:
    print("except* ValueError", repr(eg.exceptions))
except* (TypeError, KeyError) as eg:
    print("except* rest", [repr(e) for e in eg.exceptions])

try:
    try:
        1 / 0
    except ZeroDivisionError:
        raise RuntimeError("while handling")
except RuntimeError as e:
    print(repr(e.__context__), e.__suppress_context__)
    traceback.print_exc(file=sys.stdout)

e = ValueError("with note")
e.add_note("a note")
print(traceback.format_exception_only(e))


def deep(n):
    return deep(n + 1) if n < 50 else 1 / 0


try:
    deep(0)
except ZeroDivisionError:
    tb = traceback.format_exc()
    print(tb.count("\n"), tb.splitlines()[-1])

with open(__file__) as f:
    pass
print(f.closed)


class CM:
    def __enter__(self):
        print("enter")
        return self

    def __exit__(self, *exc):
        print("exit", exc[0].__name__ if exc[0] else None)
        return True


with CM():
    raise KeyError("suppressed")
print("after suppressed")
