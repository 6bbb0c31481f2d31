// The implicit force scheduler's free-form properties (any name, as the web UI's name/value
// rows and `lathe force -p` send them): a property name is checked as Buildbot checks one,
// and the names the force or the build set themselves are refused rather than silently
// overwritten; every problem is named, and a declared scheduler still refuses undeclared
// names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ForceParameterError,
  parametersToProperties,
  RESERVED_PROPERTY_NAMES,
  stringParameter,
} from '../src/schedulers/force-parameters.js';

const refusal = (given: Record<string, unknown>, extra = true): ForceParameterError => {
  try {
    parametersToProperties('force', [], given, extra);
  } catch (err) {
    assert.ok(err instanceof ForceParameterError, String(err));
    return err;
  }
  assert.fail(`accepted ${JSON.stringify(given)}`);
};

describe('free-form properties of the implicit force scheduler', () => {
  it('takes property names as they are, values untouched', () => {
    assert.deepEqual(
      parametersToProperties(
        'force',
        [],
        { colour: 'blue', 'deploy.host': 'h1', 'a/b~c:d-e_f': '', n: 3 },
        true,
      ),
      { colour: 'blue', 'deploy.host': 'h1', 'a/b~c:d-e_f': '', n: 3 },
    );
  });

  it('refuses names that are no property name, naming each', () => {
    const err = refusal({ 'bad name': 'x', '': 'y', 'semi;colon': 'z', ok: 'fine', ['n'.repeat(257)]: 'w' });
    assert.deepEqual(
      err.problems.map((p) => p.parameter),
      ['bad name', '', 'semi;colon', 'n'.repeat(257)],
    );
    assert.match(err.message, /parameter "bad name" is not a property name/);
    assert.match(err.message, /is longer than 256 characters/);
  });

  it('refuses the names the force and the build set themselves', () => {
    for (const name of [
      'owner',
      'reason',
      'scheduler',
      'buildername',
      'buildnumber',
      'workername',
      'branch',
      'revision',
    ])
      assert.ok(RESERVED_PROPERTY_NAMES.has(name), name);
    const err = refusal({ owner: 'mallory', revision: 'abc', colour: 'blue' });
    assert.deepEqual(
      err.problems.map((p) => [p.parameter, p.message]),
      [
        ['owner', 'is set by the force or the build itself and cannot be given'],
        ['revision', 'is set by the force or the build itself and cannot be given'],
      ],
    );
  });

  it('a declared scheduler still refuses any undeclared name', () => {
    const err = (() => {
      try {
        parametersToProperties('release', [stringParameter({ name: 'label' })], { colour: 'blue' });
      } catch (e) {
        return e as ForceParameterError;
      }
      assert.fail('accepted an undeclared name');
    })();
    assert.deepEqual(err.problems, [{ parameter: 'colour', message: 'is not declared (parameters: label)' }]);
  });
});
