# Integers, big integers, floats and their repr, arithmetic corner cases.
import math
import fractions

print(2 ** 100, -(2 ** 100) // 7, (2 ** 100) % 97, divmod(-17, 5), divmod(17, -5))
print(pow(3, 200, 1000003), pow(2, -1, 7), (10 ** 50 + 1) * (10 ** 40 - 1))
big = 1
for i in range(1, 60):
    big *= i
print(big, len(str(big)), big.bit_length(), hex(big)[:20], oct(255), bin(-37))
print(int("123456789" * 5), int("ff", 16), int("-0b1011", 0), int("  42  "), (255).to_bytes(2, "big"))
print(int.from_bytes(b"\x01\x02\x03", "little"), (-1).to_bytes(4, "little", signed=True))
print(0.1 + 0.2, 1 / 3, 2 / 3, 1e16, 1e-7, 123456789012345678.0, -0.0, float("inf"), float("-inf"), float("nan"))
print(repr(1.1), str(2.5), 1e300 * 1e10, 5e-324, 2.0 ** 0.5, math.pi, math.e, math.tau)
print(round(2.5), round(3.5), round(-2.5), round(2.675, 2), round(1234.5678, -2), round(7, -1))
print(math.floor(-2.5), math.ceil(-2.5), math.trunc(-2.7), math.fsum([0.1] * 10), sum([0.1] * 10))
print(math.sqrt(2), math.exp(1), math.log(10), math.log2(1024), math.log10(0.001), math.sin(1.0), math.atan2(1, -1))
print(math.gcd(2 ** 64, 6 ** 20), math.lcm(12, 18), math.factorial(30), math.comb(50, 25), math.perm(10, 3), math.isqrt(10 ** 30 + 7))
print(math.isclose(1.0, 1.0 + 1e-10), math.hypot(3, 4), math.copysign(1, -0.0), math.frexp(10.0), math.ldexp(0.75, 4))
print(7 // 2, -7 // 2, 7 % -3, -7 % 3, 7.5 // 2, -7.5 % 2, 2 ** -2, (-8) ** (1 / 3))
print(float.fromhex("0x1.8p3"), (1.5).hex(), (0.1).as_integer_ratio(), (10.0).is_integer(), float("1_000.5"))
print(fractions.Fraction(3, 4) + fractions.Fraction(1, 6), fractions.Fraction("0.125"), fractions.Fraction(1.1).limit_denominator(100))
print(complex(1, 2) * complex(3, -1), abs(3 + 4j), (1 + 2j) ** 2, complex("1+2j").conjugate())
print(format(1234567.891, ",.2f"), format(0.000123, ".3e"), format(255, "#010x"), format(3.14159, "+.3g"), format(1e20, "g"))
print(f"{12345:_}", f"{-3.5:08.2f}", f"{0.5:%}", f"{7:b}", f"{1e-5!r}", f"{2**70:,}")
print(sorted([3, 1.5, -2, 10 ** 20, 0.0, True]), max(1, 2.0), min("b", "a"), sum(range(10 ** 5)))
print(int(1e18), int(-1.9), int(2.0 ** 63), float(2 ** 63), 2 ** 63 == float(2 ** 63), 10 ** 400 > 1e308)
print(hash(1) == hash(1.0), 0.1 * 3 == 0.3, 1 < 2 < 3, True + True, ~5, 5 & 3, 5 | 3, 5 ^ 3, 1 << 100, -(1 << 100) >> 98)
try:
    1 / 0
except ZeroDivisionError as e:
    print("ZeroDivisionError:", e)
try:
    float("x1")
except ValueError as e:
    print("ValueError:", e)
try:
    int("9" * 5000)
except ValueError as e:
    print("ValueError:", str(e)[:60])
try:
    math.sqrt(-1)
except ValueError as e:
    print("ValueError:", e)
try:
    math.exp(1000)
except OverflowError as e:
    print("OverflowError:", e)
