// Model checking, liveness: every stop ends (stopped or timed out) and every
// thread it resumed runs to the end of its script, under weak fairness (the
// model's ltl claim `finish`); a seeded bug that strands a thread is rejected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LIVENESS, LIVENESS_BUG, verify } from './lib/model-checker.js';
import { within } from './lib/helpers.js';

// Two requesters and a registering thread; deaths are covered by the safety run.
const STW = ['NO_T1', 'NODEATH'];

test('stop-the-world: every stop ends and every thread finishes (weak fairness)', () =>
  within(170_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: STW, ...LIVENESS, deadlineMs: 160_000 });
    console.log(`  model stw liveness: ${v.states} states, ${v.seconds} s, ${v.memoryMb} MB, errors ${v.errors}`);
    assert.is(v.truncated, false, 'search was not exhaustive');
    assert.is(v.errors, 0, v.output);
  }));

test('liveness rejects seeded bug A (a registrant left suspended)', () =>
  within(170_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...STW, 'BUG_A'], ...LIVENESS_BUG, deadlineMs: 160_000 });
    console.log(`  model stw liveness BUG_A: ${v.states} states, ${v.seconds} s, errors ${v.errors} (${v.kind})`);
    assert.ok(v.errors > 0, 'BUG_A was not rejected');
    assert.is(v.kind, 'acceptance cycle');
  }));

test.run();
