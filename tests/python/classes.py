# Classes: descriptors, properties, metaclasses, slots, dataclasses, enums, dunder methods.
import dataclasses
import enum
import functools
import abc
from typing import NamedTuple


class Typed:
    def __init__(self, kind):
        self.kind = kind

    def __set_name__(self, owner, name):
        self.name = "_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return getattr(obj, self.name)

    def __set__(self, obj, value):
        if not isinstance(value, self.kind):
            raise TypeError(f"{self.name[1:]} must be {self.kind.__name__}")
        setattr(obj, self.name, value)


class Registry(type):
    classes = []

    def __new__(mcs, name, bases, ns, **kw):
        cls = super().__new__(mcs, name, bases, ns)
        mcs.classes.append(name)
        return cls


class Base(metaclass=Registry):
    def __init_subclass__(cls, tag=None, **kw):
        super().__init_subclass__(**kw)
        cls.tag = tag


class Point(Base, tag="pt"):
    x = Typed(int)
    y = Typed(int)
    __slots__ = ("_x", "_y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return f"Point({self.x}, {self.y})"

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __add__(self, other):
        return Point(self.x + other.x, self.y + other.y)

    def __lt__(self, other):
        return (self.x, self.y) < (other.x, other.y)


p = Point(1, 2) + Point(3, 4)
print(p, Point.tag, Registry.classes, Point.x.kind, p == Point(4, 6), sorted([Point(2, 1), Point(1, 5)]))
try:
    p.x = "no"
except TypeError as e:
    print("TypeError:", e)
try:
    p.z = 1
except AttributeError as e:
    print("AttributeError:", e)


class Temperature:
    def __init__(self):
        self._c = 0

    @property
    def fahrenheit(self):
        return self._c * 9 / 5 + 32

    @fahrenheit.setter
    def fahrenheit(self, f):
        self._c = (f - 32) * 5 / 9

    @functools.cached_property
    def expensive(self):
        print("computing")
        return 42

    @staticmethod
    def unit():
        return "C"

    @classmethod
    def make(cls):
        return cls()


t = Temperature.make()
t.fahrenheit = 212
print(t._c, t.fahrenheit, t.expensive, t.expensive, Temperature.unit())


@dataclasses.dataclass(order=True, frozen=True)
class Item:
    name: str
    price: float = 0.0
    tags: tuple = ()


items = [Item("b", 2.5), Item("a", 9.0, ("x",)), Item("a", 1.0)]
print(sorted(items), dataclasses.asdict(items[1]), dataclasses.replace(items[0], price=3), Item("z") == Item("z", 0.0))
try:
    items[0].name = "c"
except dataclasses.FrozenInstanceError as e:
    print("FrozenInstanceError:", e)


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


class Perm(enum.IntFlag):
    R = 4
    W = 2
    X = 1


print(Color.RED, repr(Color.GREEN), Color(3), Color["BLUE"].value, list(Color), Perm.R | Perm.W, repr(Perm(7)), Perm.R in Perm(5))


class Shape(abc.ABC):
    @abc.abstractmethod
    def area(self): ...


class Square(Shape):
    def __init__(self, s):
        self.s = s

    def area(self):
        return self.s ** 2


try:
    Shape()
except TypeError as e:
    print("TypeError:", e)
print(Square(3).area(), isinstance(Square(1), Shape), Square.__mro__)


class A:
    def who(self):
        return "A"


class B(A):
    def who(self):
        return "B>" + super().who()


class C(A):
    def who(self):
        return "C>" + super().who()


class D(B, C):
    def who(self):
        return "D>" + super().who()


print(D().who(), [k.__name__ for k in D.__mro__])


class Vec(NamedTuple):
    x: float
    y: float = 0.0


v = Vec(1.5)
print(v, v._replace(y=2), v._asdict(), Vec._fields, v.x)


class Dyn:
    def __getattr__(self, name):
        return f"dyn:{name}"

    def __getitem__(self, k):
        return k * 2

    def __call__(self, *a, **kw):
        return a, sorted(kw.items())

    def __len__(self):
        return 7

    def __contains__(self, x):
        return x == "in"

    def __bool__(self):
        return False


d = Dyn()
print(d.anything, d[21], d(1, 2, b=3, a=4), len(d), "in" in d, bool(d), vars(Temperature.make()))
print(type(p).__name__, type(Point), Point.__qualname__, callable(d), getattr(d, "q"), hasattr(p, "zz"), issubclass(D, A))
