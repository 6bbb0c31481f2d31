import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CANCELLED,
  combineStepResult,
  computeBuildResult,
  EXCEPTION,
  FAILURE,
  RESULT_NAMES,
  RETRY,
  resultFromName,
  SKIPPED,
  SUCCESS,
  WARNINGS,
  worstResult,
} from '../src/results.js';

describe('results', () => {
  it("uses Buildbot's numeric values", () => {
    assert.deepEqual(
      [SUCCESS, WARNINGS, FAILURE, SKIPPED, EXCEPTION, RETRY, CANCELLED],
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.deepEqual(RESULT_NAMES, [
      'success',
      'warnings',
      'failure',
      'skipped',
      'exception',
      'retry',
      'cancelled',
    ]);
    assert.equal(resultFromName('retry'), RETRY);
    assert.throws(() => resultFromName('great'), RangeError);
  });

  it('orders severity as Buildbot does, not numerically', () => {
    assert.equal(worstResult(SUCCESS, SKIPPED), SUCCESS);
    assert.equal(worstResult(SKIPPED, WARNINGS), WARNINGS);
    assert.equal(worstResult(FAILURE, EXCEPTION), EXCEPTION);
    assert.equal(worstResult(RETRY, EXCEPTION), RETRY);
    assert.equal(worstResult(CANCELLED, RETRY), CANCELLED);
    assert.equal(worstResult(null, SKIPPED), SKIPPED);
    assert.equal(worstResult(null, null), null);
  });

  it('applies the step flags like computeResultAndTermination', () => {
    assert.deepEqual(combineStepResult({}, FAILURE, SUCCESS), { result: FAILURE, terminate: false });
    assert.deepEqual(combineStepResult({ haltOnFailure: true }, FAILURE, SUCCESS), {
      result: FAILURE,
      terminate: true,
    });
    assert.deepEqual(combineStepResult({ flunkOnFailure: false }, FAILURE, SUCCESS), {
      result: SUCCESS,
      terminate: false,
    });
    assert.deepEqual(combineStepResult({ flunkOnFailure: false, warnOnFailure: true }, FAILURE, SUCCESS), {
      result: WARNINGS,
      terminate: false,
    });
    assert.deepEqual(combineStepResult({}, WARNINGS, SUCCESS), { result: WARNINGS, terminate: false });
    assert.deepEqual(combineStepResult({ warnOnWarnings: false }, WARNINGS, SUCCESS), {
      result: SUCCESS,
      terminate: false,
    });
    assert.deepEqual(combineStepResult({ flunkOnWarnings: true }, WARNINGS, SUCCESS), {
      result: FAILURE,
      terminate: false,
    });
    for (const r of [EXCEPTION, RETRY, CANCELLED] as const) {
      assert.deepEqual(combineStepResult({}, r, WARNINGS), { result: r, terminate: true });
    }
    // A later success never hides an earlier failure.
    assert.deepEqual(combineStepResult({}, SUCCESS, FAILURE), { result: FAILURE, terminate: false });
  });

  it('computes build results over a sequence of steps', () => {
    assert.equal(computeBuildResult([]), SUCCESS);
    assert.equal(computeBuildResult([{ result: SKIPPED }, { result: SKIPPED }]), SUCCESS);
    assert.equal(
      computeBuildResult([{ result: SUCCESS }, { result: WARNINGS }, { result: SUCCESS }]),
      WARNINGS,
    );
    assert.equal(
      computeBuildResult([{ result: FAILURE, policy: { haltOnFailure: true } }, { result: CANCELLED }]),
      FAILURE,
      'steps after a halting failure do not count',
    );
    assert.equal(
      computeBuildResult([{ result: FAILURE }, { result: EXCEPTION }, { result: CANCELLED }]),
      EXCEPTION,
    );
  });

  it('treats a policy flag that is present but undefined as unset (class fields)', () => {
    const policy = { flunkOnFailure: undefined, haltOnFailure: undefined };
    assert.deepEqual(combineStepResult(policy, FAILURE, SUCCESS), { result: FAILURE, terminate: false });
  });
});
