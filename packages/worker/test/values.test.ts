import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shellQuote } from '../src/process/shell-quote.js';
import { toWorkerFailure, UnknownCommandError } from '../src/protocol/failure.js';
import { pyRepr, reprBytes, reprText } from '../src/protocol/pyrepr.js';
import { decodeArgs, float, isTuple, PyFloat, pyTruthy, tuple } from '../src/protocol/values.js';
import { expandUser, pyDirname, pyJoin } from '../src/util/pypath.js';

describe('Python repr for headers', () => {
  it('writes text and bytes as Python does', () => {
    assert.equal(reprText('mylog.txt'), "'mylog.txt'");
    assert.equal(reprText("it's"), `"it's"`);
    assert.equal(reprText(`'"`), `'\\'"'`);
    assert.equal(reprText('a\nb\t\x01'), "'a\\nb\\t\\x01'");
    assert.equal(reprText('héllo'), "'héllo'");
    assert.equal(reprBytes('héllo'), "b'h\\xc3\\xa9llo'");
    assert.equal(reprBytes(new Uint8Array([0x27, 0x5c])), `b"'\\\\"`);
  });

  it('matches the argv and logfiles headers of the bb-worker capture', () => {
    const argv = ['echo', 'hello from buildbot'].map((s) => new TextEncoder().encode(s));
    assert.equal(pyRepr(argv), "[b'echo', b'hello from buildbot']");
    assert.equal(pyRepr({ mylog: 'mylog.txt' }), "{'mylog': 'mylog.txt'}");
    assert.equal(pyRepr({}), '{}');
    assert.equal(pyRepr({ a: { filename: 'x', follow: true } }), "{'a': {'filename': 'x', 'follow': True}}");
  });

  it('writes numbers, None and tuples as Python does', () => {
    assert.equal(pyRepr(null), 'None');
    assert.equal(pyRepr(1200), '1200');
    assert.equal(pyRepr(1.5), '1.5');
    assert.equal(pyRepr(new PyFloat(2)), '2.0');
    assert.equal(pyRepr(1e-5), '1e-05');
    assert.equal(pyRepr(new PyFloat(1e16)), '1e+16');
    assert.equal(pyRepr(1e16), '10000000000000000');
    assert.equal(pyRepr(0.0001), '0.0001');
    assert.equal(pyRepr(123456.789), '123456.789');
    assert.equal(pyRepr(tuple('a')), "('a',)");
    assert.equal(pyRepr(tuple(1, 2)), '(1, 2)');
  });
});

describe('shell quoting for the command header', () => {
  it('quotes like shlex.quote, with "" for empty arguments', () => {
    assert.equal(shellQuote(['echo', 'hello from buildbot']), "echo 'hello from buildbot'");
    assert.equal(shellQuote(['cp', '-R', '/a/b', 'x=y,z@1%']), 'cp -R /a/b x=y,z@1%');
    assert.equal(shellQuote(['echo', '']), 'echo ""');
    assert.equal(shellQuote(["it's"]), `'it'"'"'s'`);
    assert.equal(shellQuote(['héllo']), "'héllo'");
  });
});

describe('paths as os.path', () => {
  it('joins without normalising, absolute parts replacing the prefix', () => {
    assert.equal(pyJoin('/w/demo', 'build'), '/w/demo/build');
    assert.equal(pyJoin('/w/demo', 'build/../x'), '/w/demo/build/../x');
    assert.equal(pyJoin('/w/demo', '/abs/dir', 'f'), '/abs/dir/f');
    assert.equal(pyJoin('/w/demo', '', 'f'), '/w/demo/f');
    assert.equal(pyJoin('/w/demo', ''), '/w/demo/');
    assert.equal(pyJoin('/w/demo/', 'f'), '/w/demo/f');
  });

  it('takes dirnames and expands ~', () => {
    assert.equal(pyDirname('/a/b/c'), '/a/b');
    assert.equal(pyDirname('/a'), '/');
    assert.equal(pyDirname('c'), '');
    assert.equal(expandUser('~/x', { HOME: '/home/me' }), '/home/me/x');
    assert.equal(expandUser('~', { HOME: '/home/me/' }), '/home/me');
    assert.equal(expandUser('~root/x', {}), '/root/x');
    assert.equal(expandUser('~no-such-user-here/x', {}), '~no-such-user-here/x');
    assert.equal(expandUser('a/~/x', { HOME: '/h' }), 'a/~/x');
  });
});

describe('argument values', () => {
  it('decodes bytes to text everywhere but keeps tuples and references', () => {
    const ref = new (class Ref {})();
    const decoded = decodeArgs({
      workdir: new TextEncoder().encode('build'),
      command: [
        new TextEncoder().encode('echo'),
        tuple<unknown>('obfuscated', new TextEncoder().encode('s3cret'), 'XXX'),
      ],
      writer: ref,
    }) as Record<string, unknown>;
    assert.equal(decoded.workdir, 'build');
    const command = decoded.command as unknown[];
    assert.equal(command[0], 'echo');
    assert.ok(isTuple(command[1]));
    assert.deepEqual([...(command[1] as unknown[])], ['obfuscated', 's3cret', 'XXX']);
    assert.equal(decoded.writer, ref);
  });

  it('applies Python truthiness to flags sent as ints', () => {
    assert.equal(pyTruthy(1), true);
    assert.equal(pyTruthy(0), false);
    assert.equal(pyTruthy(null), false);
    assert.equal(pyTruthy(''), false);
    assert.equal(pyTruthy({}), false);
    assert.equal(pyTruthy({ a: 1 }), true);
    assert.ok(float(3) instanceof PyFloat);
    assert.equal(float(0.5), 0.5);
  });
});

describe('failures for the master', () => {
  it('carry the Python type, value and class hierarchy of buildbot-worker', () => {
    const unknown = new UnknownCommandError('noSuchCommand');
    assert.equal(unknown.pyType, 'buildbot_worker.base.UnknownCommand');
    assert.equal(unknown.pythonType, unknown.pyType);
    assert.equal(unknown.message, "unrecognized WorkerCommand 'noSuchCommand'");
    assert.deepEqual(unknown.parents, [
      'buildbot_worker.base.UnknownCommand',
      'twisted.spread.pb.Error',
      'builtins.Exception',
      'builtins.BaseException',
      'builtins.object',
    ]);
    assert.deepEqual(unknown.pythonParents, unknown.parents.slice(1));
    assert.match(unknown.traceback, /UnknownCommandError/);
  });

  it('name system errors as Python does', () => {
    const err = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/x/y' });
    const failure = toWorkerFailure(err);
    assert.equal(failure.pyType, 'builtins.FileNotFoundError');
    assert.equal(failure.message, "[Errno 2] No such file or directory: '/x/y'");
    assert.deepEqual(failure.parents.slice(0, 2), ['builtins.FileNotFoundError', 'builtins.OSError']);
    assert.equal(toWorkerFailure(new Error('plain')).pyType, 'builtins.RuntimeError');
  });
});
