// CPython's own regression tests, run by its own runner through wasm-threads-python
// (tests/lib/python-regrtest.ts): bytes and bytearray.
import { regrtestSuite } from './lib/python-regrtest.js';

regrtestSuite(['test_bytes']);
