#!/usr/bin/env bash
# Builds the C embedder example (examples/c-embedder) twice with clang + lld:
#   build/c-embedder.wasm      fixed-address link, data at --global-base=EMBED_GLOBAL_BASE
#   build/c-embedder.pie.wasm  position-independent link, data at __memory_base set at run time
# Exits 0 without building when clang is missing and NEED_CLANG is unset
# (npm run build on a machine without a C toolchain); tests set NEED_CLANG=1.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
  cat <<'EOF'
npm run build:c: builds the C embedder example (build/c-embedder.wasm and build/c-embedder.pie.wasm)

options:
  CLANG=…       the C compiler (default: the first of clang, clang-14 … clang-18 on PATH)
  NEED_CLANG=…  set: a missing compiler fails the build (else it is skipped, with status 0)
  --help        this text

NAME=… options are read from the environment.
EOF
  exit 0
fi

CLANG=${CLANG:-}
if [ -z "$CLANG" ]; then
  for c in clang clang-14 clang-15 clang-16 clang-17 clang-18; do
    if command -v "$c" >/dev/null 2>&1; then CLANG=$c; break; fi
  done
fi
if [ -z "$CLANG" ]; then
  if [ -n "${NEED_CLANG:-}" ]; then echo "build-c: clang not found" >&2; exit 1; fi
  echo "build-c: clang not found, C embedder not built"
  exit 0
fi

# Must stay at or above heap_base() of every core build (docs/EMBEDDING.md).
EMBED_GLOBAL_BASE=0x20000
# The core's memory import is (memory 4 4096 shared): an importer declaring the
# same maximum accepts every memory the core accepts.
MAX_MEMORY=$((4096 * 65536))

SRC=examples/c-embedder/embedder.c
mkdir -p build
CFLAGS=(-O2 -nostdlib -ffreestanding -matomics -mbulk-memory -mmutable-globals -Iinclude -Wall -Wextra -Werror)
LDFLAGS=(-Wl,--no-entry,--import-memory,--shared-memory,--max-memory=$MAX_MEMORY,-z,stack-size=4096
  -Wl,--export=__wasm_init_tls,--export=__tls_size,--export=__tls_align)

# Fixed address: static data above the core's; each instance's stack pointer
# and TLS block are set by the host from memory the thread owns.
"$CLANG" --target=wasm32 -ftls-model=local-exec "${CFLAGS[@]}" -DEMBED_GLOBAL_BASE=$EMBED_GLOBAL_BASE \
  "${LDFLAGS[@]}" -Wl,--global-base=$((EMBED_GLOBAL_BASE)),--export=__stack_pointer,--export=__heap_base \
  "$SRC" -o build/c-embedder.wasm

# Position-independent: clang 14 emits PIC code only for the emscripten OS
# triple (the code uses nothing of emscripten); __memory_base and
# __stack_pointer are imports the host provides per instance.
"$CLANG" --target=wasm32-unknown-emscripten -fPIC "${CFLAGS[@]}" \
  "${LDFLAGS[@]}" -Wl,--experimental-pic,-pie \
  "$SRC" -o build/c-embedder.pie.wasm

# The header is for C++ too: it must compile as C++ without warnings.
printf '#include "wasm_threads_core.h"\nint32_t cpp_check(int32_t h) { return wtc_poll_fast(h); }\n' |
  "$CLANG" --target=wasm32 -x c++ -fsyntax-only -ffreestanding -matomics -Iinclude -Wall -Wextra -Werror -

echo "build-c: build/c-embedder.wasm build/c-embedder.pie.wasm"
