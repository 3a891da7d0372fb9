// Model checking, liveness: every stop ends (stopped or timed out) and every
// thread it resumed runs to the end of its script, under weak fairness (the
// model's ltl claim `finish`); a seeded bug that strands a thread is rejected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LIVENESS, LIVENESS_BUG, verify } from './lib/model-checker.js';
import { within } from './lib/helpers.js';

// The stepped stop's state space with two requesters and a registering thread together is past what this suite can
// search (tens of millions of states), so liveness is checked in two configurations that each finish in seconds:
// two requesters contending for the stop (the back-off and E_BUSY paths), and one requester with a thread that
// registers during the stop (the path seeded bug A strands). Deaths are covered by the safety run.
const CONTENDED = ['NO_T1', 'NODEATH', 'NO_REGISTRANT'];
const REGISTERING = ['NO_T1', 'NODEATH', 'ONE_REQUESTER'];

for (const [name, defines] of [['two requesters', CONTENDED], ['a registrant', REGISTERING]] as const) {
  test(`stop-the-world with ${name}: every stop ends and every thread finishes (weak fairness)`, () =>
    within(170_000, async () => {
      const v = await verify({ model: 'stw.pml', defines: [...defines], ...LIVENESS, deadlineMs: 160_000 });
      console.log(`  model stw liveness (${name}): ${v.states} states, ${v.seconds} s, ${v.memoryMb} MB, errors ${v.errors}`);
      assert.is(v.truncated, false, 'search was not exhaustive');
      assert.is(v.errors, 0, v.output);
    }));
}

test('liveness rejects seeded bug A (a registrant left suspended)', () =>
  within(170_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...REGISTERING, 'BUG_A'], ...LIVENESS_BUG, deadlineMs: 160_000 });
    console.log(`  model stw liveness BUG_A: ${v.states} states, ${v.seconds} s, errors ${v.errors} (${v.kind})`);
    assert.ok(v.errors > 0, 'BUG_A was not rejected');
    assert.is(v.kind, 'acceptance cycle');
  }));

test.run();
