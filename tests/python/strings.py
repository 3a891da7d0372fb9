# str, bytes, formatting: str.format, %, f-strings, unicode.
s = "Hello, Wörld! ünïcödé ✓ 𝄞"
print(s, len(s), s.upper(), s.lower(), s.casefold(), s.swapcase(), s.title())
print(s.encode("utf-8"), s.encode("utf-16-le")[:10], s.encode("ascii", "replace"), s.encode("latin-1", "ignore"))
print(repr(s), ascii(s), s[::-1], s[3:9], s.find("W"), s.rfind("l"), s.count("l"), s.index("!"))
print(s.split(), s.split(",", 1), "a,b,,c".split(","), "  x  y  ".strip(), "xxhixx".strip("x"), "a\tb".expandtabs(4))
print("-".join(["a", "b", "c"]), "abc".center(9, "*"), "abc".ljust(5) + "|", "abc".rjust(5), "42".zfill(6), "-42".zfill(6))
print("The {} {} {}".format("quick", "brown", "fox"), "{1} {0} {1}".format("a", "b"), "{name}={value!r}".format(name="x", value="y"))
print("{:>10}|{:<10}|{:^10}|".format("r", "l", "c"), "{:*^15,.3f}".format(12345.6789), "{0[1]} {0[0]}".format(("a", "b")))
print("%s %r %d %5.2f %-5d| %x %o %e %c %%" % ("s", "r", 42, 3.14159, 7, 255, 8, 12345.678, 65))
print("%(a)s and %(b)05d" % {"a": "A", "b": 12})
name, n = "world", 3
print(f"hello {name!r:>10} {n * 2} {n:03d} {name.upper()=} {[1, 2][0]}")
print("é".encode(), b"caf\xc3\xa9".decode(), "ß".upper(), "ǅ".lower(), "İ".lower(), len("İ".lower()))
print("straße".encode("utf-8").hex(), bytes.fromhex("deadbeef"), bytearray(b"abc") + b"def", b"a,b".split(b","))
print("abc" * 3, "a" in "abc", "abc" < "abd", "Z" < "a", ord("€"), chr(0x1F600), "\N{GREEK SMALL LETTER ALPHA}")
print("line1\nline2\r\nline3".splitlines(), "line1\nline2".splitlines(True), "a b c".partition(" "), "a b c".rpartition(" "))
print("isdigit", "123".isdigit(), "½".isnumeric(), "abc".isalpha(), "ab1".isalnum(), " ".isspace(), "Ab".istitle(), "x".isidentifier())
print("hello world".replace("o", "0"), "hello".replace("l", "L", 1), "abc".translate(str.maketrans("abc", "xyz")), "tEsT".capitalize())
print(str(b"bytes"), str(b"caf\xc3\xa9", "utf-8"), repr(b"\x00\x7f\x80\xff"), repr("\x00\t\n'\""), repr('it\'s'))
print(sorted(["banana", "Apple", "cherry", "apple"]), sorted(["banana", "Apple", "cherry"], key=str.lower), "%.3s" % "abcdef")
print(memoryview(b"abcdef")[1:4].tobytes(), bytes(range(5)), bytearray(3), b"abc".upper(), b"%d-%s" % (5, b"x"))
try:
    b"\xff".decode("utf-8")
except UnicodeDecodeError as e:
    print("UnicodeDecodeError:", e)
try:
    "x".encode("no-such-codec")
except LookupError as e:
    print("LookupError:", e)
import textwrap, string
print(textwrap.fill("The quick brown fox jumps over the lazy dog " * 3, 30))
print(textwrap.dedent("    a\n      b\n    c"), string.ascii_letters, string.Template("$x and ${y}").substitute(x=1, y=2))
