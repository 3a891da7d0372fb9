// The host's error classes by operation: a missing platform capability is an
// UnsupportedError, an E_BUSY is classed by the operation that met it, and a
// lock's failures stay LockErrors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../host/runtime.js';
import { nodePlatform } from '../host/node/platform.js';
import type { Platform } from '../host/platform.js';
import { ERRNO, LockError, UnsupportedError, WasmThreadsError } from '../host/errors.js';
import { CORE_BUILD, within } from './lib/helpers.js';

/** The Node platform without processes, on a main thread that must not block (a browser's shape). */
const browserLike: Platform = { ...nodePlatform, startForkServer: undefined, exit: undefined, mainThreadCanBlock: false };

test('a missing capability or a blocking call where blocking is not allowed is an UnsupportedError', () =>
  within(10_000, async () => {
    await Runtime.create(browserLike, { wasm: CORE_BUILD, fork: { continuation: new URL('file:///nowhere.js') } }).then(
      () => assert.unreachable('fork configured without processes'),
      (e) => {
        assert.instance(e, UnsupportedError);
        assert.is((e as UnsupportedError).code, 'E_UNSUPPORTED');
        assert.is((e as UnsupportedError).errno, ERRNO.E_UNSUPPORTED);
      },
    );
    const rt = await Runtime.create(browserLike, { wasm: CORE_BUILD });
    try {
      assert.throws(() => rt.stopTheWorld(), (e: unknown) => e instanceof UnsupportedError && /stopTheWorldAsync/.test((e as Error).message));
      await rt.exit(0).then(() => assert.unreachable('exit without processes'), (e) => assert.instance(e, UnsupportedError));
      await rt.stopTheWorldAsync();
      // start may wait for a registering slot: only its non-blocking form is allowed here
      assert.throws(() => rt.startTheWorld(), (e: unknown) => e instanceof UnsupportedError && /startTheWorldAsync/.test((e as Error).message));
      await rt.startTheWorldAsync();
      assert.is(rt.core.is_stopped(), 0);
    } finally {
      await rt.close();
    }
  }));

test('a held lock that cannot be destroyed is a LockError, not a stop error', () =>
  within(10_000, async () => {
    const rt = await Runtime.create(nodePlatform, { wasm: CORE_BUILD });
    try {
      const id = rt.createLock('mutex');
      rt.main.lock(id);
      assert.throws(() => rt.destroyLock(id), (e: unknown) => e instanceof LockError && (e as LockError).code === 'E_BUSY');
      rt.main.unlock(id);
      rt.destroyLock(id);
      assert.throws(() => rt.destroyLock(id), (e: unknown) => e instanceof LockError && (e as WasmThreadsError).code === 'E_BAD_LOCK');
    } finally {
      await rt.close();
    }
  }));

test.run();
