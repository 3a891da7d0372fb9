/* Debian's luaconf.h (patch 0002) includes this header, which Debian's build
 * generates: the multiarch triplet in package.cpath's default. */
#ifndef LUA_DEB_MULTIARCH_H
#define LUA_DEB_MULTIARCH_H
#define DEB_HOST_MULTIARCH "wasm32-wasi"
#endif
