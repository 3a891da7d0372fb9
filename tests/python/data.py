# json, re, struct, decimal, collections, datetime at fixed times.
import json
import re
import struct
import decimal
import collections
import datetime
import heapq
import bisect
import base64
import hashlib
import binascii

doc = {"name": "x", "list": [1, 2.5, None, True, "é"], "nested": {"a": {"b": [{}]}}, "big": 2 ** 70, "neg": -0.0}
text = json.dumps(doc, sort_keys=True)
print(text)
print(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True))
print(json.loads(text) == doc, json.loads('{"a": [1, 2, {"b": null}], "c": 1e400, "d": "\\u00e9\\ud83d\\ude00"}'))
print(json.dumps([float("inf"), 1e-7, 123456789.123456789, "\x00\n"]), json.dumps({"k": 1}, separators=(",", ":")))
try:
    json.loads('{"a": }')
except json.JSONDecodeError as e:
    print("JSONDecodeError:", e, e.pos)

print(re.findall(r"\b\w+@\w+\.\w+\b", "mail a@b.com and c@d.org now"), re.sub(r"(\d+)", lambda m: str(int(m[1]) * 2), "a1 b22 c333"))
m = re.match(r"(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)", "2024-02-29T10:00")
print(m.groupdict(), m.span(), m.group(0), m.start("month"), m.expand(r"\g<day>/\g<month>"))
print(re.split(r"[,;]\s*", "a, b;c;  d"), re.fullmatch(r"[a-z]+", "abc") is not None, re.search(r"(?i)HELLO", "say hello").group())
print(re.compile(r"(a)(b)?").findall("ab a"), re.subn(r"\s+", " ", "a   b \n c"), re.escape("1+1=2?"), [m.start() for m in re.finditer("o", "foo boo")])
print(re.sub(r"(?m)^", "> ", "l1\nl2"), re.findall(r"(?s)<(.*?)>", "<a\nb><c>"), re.match(r"(?x) a  b # comment", "ab").group())
print(re.findall(r"[\u00e0-\u00ff]+", "café naïve"), re.sub(r"(?<=a)b", "X", "abab cb"), re.findall(r"(\w)\1", "aabbcd"))

packed = struct.pack("<hIq3sd?", -2, 4000000000, -(2 ** 40), b"abc", 1.5, True)
print(packed, len(packed), struct.unpack("<hIq3sd?", packed), struct.calcsize(">bHiQ"), struct.pack("!f", 0.1))
print(struct.unpack(">4B", b"\x01\x02\x03\x04"), list(struct.iter_unpack("<H", b"\x01\x00\x02\x00")), struct.pack("<e", 1.5))
try:
    struct.pack("<h", 70000)
except struct.error as e:
    print("struct.error:", e)

D = decimal.Decimal
print(D("0.1") + D("0.2"), D(1) / D(7), D("1.30") * D("2"), D("123.456").quantize(D("0.01")), D(2).sqrt(), D("1e-10").exp())
with decimal.localcontext() as ctx:
    ctx.prec = 50
    print(D(1) / D(3), D(2).ln(), D(10) ** 20 + 1)
print(D("2.5").to_integral_value(decimal.ROUND_HALF_EVEN), D("-0"), D("NaN"), D("Infinity") > 10 ** 100, D(0.1), D("1.2E+3").normalize())
try:
    D(1) / D(0)
except decimal.DivisionByZero as e:
    print("DivisionByZero:", type(e).__name__)

c = collections.Counter("abracadabra")
print(c.most_common(3), c["z"], sorted(c.elements())[:5], c - collections.Counter("aab"))
dd = collections.defaultdict(list)
for k, v in [("a", 1), ("b", 2), ("a", 3)]:
    dd[k].append(v)
print(dict(dd), collections.OrderedDict(a=1, b=2), collections.deque(range(5), maxlen=3), collections.ChainMap({"a": 1}, {"a": 2, "b": 3})["b"])
dq = collections.deque([1, 2, 3])
dq.rotate(1)
dq.appendleft(0)
print(dq, list(heapq.merge([1, 4, 7], [2, 5])), heapq.nsmallest(2, [5, 1, 4, 2]), bisect.bisect_left([1, 3, 5], 4))
h = []
for x in [5, 3, 8, 1]:
    heapq.heappush(h, x)
print([heapq.heappop(h) for _ in range(4)], {"b": 1, "a": 2} | {"c": 3}, dict(sorted({"b": 1, "a": 2}.items())))

t0 = datetime.datetime(2024, 2, 29, 13, 45, 30, 123456)
print(t0, repr(t0), t0.isoformat(), t0.strftime("%Y-%m-%d %H:%M:%S %a %b %j %U %p %%"), t0.weekday(), t0.isocalendar())
print(t0 + datetime.timedelta(days=366, hours=12), t0 - datetime.datetime(2000, 1, 1), datetime.timedelta(seconds=-1), datetime.timedelta(days=1.5))
tz = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
aware = datetime.datetime(2020, 6, 15, 8, 0, tzinfo=tz)
print(aware, aware.astimezone(datetime.timezone.utc), aware.utcoffset(), aware.tzname(), datetime.datetime.fromisoformat("2021-03-04T05:06:07+01:00"))
print(datetime.date(2024, 1, 1).toordinal(), datetime.date.fromordinal(700000), datetime.date(2023, 12, 31).strftime("%A %B %d"), datetime.time(23, 59, 59, 999))
print(datetime.datetime.fromtimestamp(1700000000, datetime.timezone.utc), datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
print(datetime.datetime.strptime("03/04/21 10:11", "%d/%m/%y %H:%M"), datetime.date(2024, 3, 1) - datetime.date(2024, 2, 1))

print(base64.b64encode(b"hello world"), base64.b32decode(b"NBSWY3DP"), binascii.crc32(b"abc"), binascii.hexlify(b"\x01\xff"))
print(hashlib.sha256(b"abc").hexdigest(), hashlib.md5(b"abc").hexdigest(), hashlib.blake2b(b"abc", digest_size=16).hexdigest(), hashlib.sha3_256(b"").hexdigest()[:16])
