# Files and directories in the working directory: text, binary, seek, listdir, pathlib, shutil.
import os
import pathlib
import shutil
import io
import sys

with open("out.txt", "w", encoding="utf-8") as f:
    f.write("line one\nline two ✓\n")
    print(f.tell())
with open("out.txt", "a") as f:
    print("appended", file=f)
with open("out.txt", encoding="utf-8") as f:
    print(f.readline(), end="")
    print(f.readlines())
with open("out.txt", "rb") as f:
    data = f.read()
    print(data, len(data))
    f.seek(5)
    print(f.read(3), f.tell())
    f.seek(-4, os.SEEK_END)
    print(f.read())
with open("out.bin", "wb+") as f:
    f.write(bytes(range(256)) * 4)
    f.seek(1000)
    print(f.read(100))
    f.truncate(10)
print(os.path.getsize("out.bin"), os.path.exists("out.txt"), os.path.isdir("."), os.path.isfile("nope"))
os.mkdir("sub")
os.makedirs("sub/a/b", exist_ok=True)
for name in ("z.txt", "a.txt", "m.dat"):
    pathlib.Path("sub", name).write_text(name * 3)
print(sorted(os.listdir("sub")), sorted(p.name for p in pathlib.Path("sub").glob("*.txt")))
print(sorted((e.name, e.is_dir(), e.is_file()) for e in os.scandir("sub")))
print(sorted(os.path.relpath(os.path.join(root, n), "sub") for root, dirs, files in os.walk("sub") for n in dirs + files))
st = os.stat("sub/z.txt")
print(st.st_size, oct(st.st_mode & 0o170000), pathlib.Path("sub/a.txt").read_text(), pathlib.Path("sub/m.dat").suffix)
os.rename("sub/m.dat", "sub/n.dat")
shutil.copy("sub/z.txt", "sub/a/copy.txt")
print(pathlib.Path("sub/a/copy.txt").read_bytes(), os.path.exists("sub/m.dat"), sorted(os.listdir("sub")))
try:
    open("no/such/file")
except FileNotFoundError as e:
    print("FileNotFoundError:", e.strerror, e.filename)
try:
    os.mkdir("sub")
except FileExistsError as e:
    print("FileExistsError:", e.strerror)
try:
    os.rmdir("sub")
except OSError as e:
    print(type(e).__name__, e.strerror)
shutil.rmtree("sub")
os.remove("out.txt")
os.unlink("out.bin")
print(os.listdir("."), os.path.join("a", "b", "..", "c"), os.path.normpath("a/b/../c"), os.path.splitext("x.tar.gz"))
buf = io.StringIO()
buf.write("in memory\n")
print(buf.getvalue(), end="")
bio = io.BytesIO(b"0123456789")
bio.seek(3)
print(bio.read(4), io.TextIOWrapper(io.BytesIO("é\n".encode()), encoding="utf-8").read())
sys.stdout.write("written directly\n")
sys.stderr.write("to stderr\n")
print("flushed", flush=True)
