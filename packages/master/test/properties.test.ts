import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  EnvSecretProvider,
  FileSecretProvider,
  InterpolateSyntaxError,
  interpolate,
  layerBuildProperties,
  Properties,
  prop,
  Redactor,
  type RenderContext,
  render,
  renderable,
  SecretManager,
  SecretNotFoundError,
  SecretProviderError,
  StaticSecretProvider,
  secret,
} from '../src/properties/index.js';
import { tempDir } from './helpers.js';

function ctxWith(props: Record<string, unknown>, extra: Partial<RenderContext> = {}): RenderContext {
  return { properties: new Properties(props), ...extra };
}

describe('properties', () => {
  it('layers sources in Buildbot order and keeps each source', () => {
    const p = layerBuildProperties({
      config: { a: 1, b: 1, c: 1, shared: 'global' },
      changes: [{ b: 2 }],
      scheduler: { c: 3, d: 3 },
      builder: { d: 4, buildername: 'linux' },
      build: { buildnumber: 7 },
      worker: { workername: 'w1' },
    });
    assert.deepEqual(p.asRecord(), {
      a: [1, 'Global'],
      b: [2, 'Change'],
      c: [3, 'Scheduler'],
      shared: ['global', 'Global'],
      d: [4, 'Builder'],
      buildername: ['linux', 'Builder'],
      buildnumber: [7, 'Build'],
      workername: ['w1', 'Worker'],
    });
    p.setProperty('got_revision', 'abc', 'Git');
    assert.equal(p.getSource('got_revision'), 'Git');
    assert.equal(p.getProperty('missing', 'dflt'), 'dflt');
    assert.throws(() => p.setProperty('x', undefined, 'step'), TypeError);
  });
});

describe('interpolate', () => {
  const ctx = ctxWith(
    { branch: 'main', empty: '', zero: 0, none: null, list: [1, 2], flag: true },
    {
      sourceStamp: (cb) =>
        cb === 'lib' ? { revision: 'abc123', branch: 'dev' } : cb === '' ? { revision: 'r0' } : undefined,
      workerInfo: { os: 'linux' },
    },
  );

  const cases: [string, string][] = [
    ['%(prop:branch)s', 'main'],
    ['%(prop:missing)s', ''],
    ['%(prop:none)s', ''],
    ['%(prop:missing:-dflt)s', 'dflt'],
    ['%(prop:empty:-dflt)s', ''],
    ['%(prop:empty:~dflt)s', 'dflt'],
    ['%(prop:zero:~dflt)s', 'dflt'],
    ['%(prop:branch:~dflt)s', 'main'],
    ['%(prop:branch:+alt)s', 'alt'],
    ['%(prop:missing:+alt)s', ''],
    ['%(prop:empty:?|present|absent)s', 'present'],
    ['%(prop:missing:?|present|absent)s', 'absent'],
    ['%(prop:empty:#?|yes|no)s', 'no'],
    ['%(prop:flag:#?/yes/no)s', 'yes'],
    ['%(prop:missing:-%(prop:branch)s-x)s', 'main-x'],
    ['%(prop:branch:?|on %(prop:branch)s|off)s', 'on main'],
    ['%(prop:list)s', '[1,2]'],
    ['%(src:lib:revision)s/%(src:lib:branch)s', 'abc123/dev'],
    ['%(src::revision)s', 'r0'],
    ['%(src:other:revision:-none)s', 'none'],
    ['%(worker:os)s %(worker:arch:-?)s', 'linux ?'],
    ['100%% of %(kw:what)s', '100% of tests'],
  ];
  for (const [format, expected] of cases) {
    it(`renders ${format}`, async () => {
      assert.equal(await render(interpolate(format, { what: 'tests' }), ctx), expected);
    });
  }

  it('rejects malformed format strings at configuration time', () => {
    for (const bad of [
      '%(prop:x',
      '%(nosel)s',
      '%(foo:x)s',
      '%(prop:a b)s',
      '%(prop:x)d',
      'a % b',
      '%(prop:x:?|only)s',
      '%(prop:x:!bad)s',
      '%(src:onlycodebase)s',
    ]) {
      assert.throws(() => interpolate(bad), InterpolateSyntaxError, bad);
    }
  });

  it('renders tagged templates, renderable() and nested step arguments', async () => {
    const command = {
      argv: ['make', interpolate`-j${prop('jobs', 2)}`, interpolate('BRANCH=%(prop:branch)s')],
      env: { REV: renderable((c) => `${c.properties.getProperty('branch')}-rev`), KEEP: 3 },
      when: new Date(0),
      nested: [[prop('flag')]],
    };
    const out = await render(command, ctx);
    assert.deepEqual(out.argv, ['make', '-j2', 'BRANCH=main']);
    assert.deepEqual(out.env, { REV: 'main-rev', KEEP: 3 });
    assert.ok(out.when instanceof Date, 'class instances pass through untouched');
    assert.deepEqual(out.nested, [[true]]);
  });
});

describe('secrets and redaction', () => {
  const dir = tempDir('lathe-secrets-');
  after(() => dir.cleanup());

  it('reads secrets from a private directory of files and from the environment', async () => {
    const secrets = join(dir.path, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    writeFileSync(join(secrets, 'token'), 's3cr3t-token\n');
    const files = new FileSecretProvider(secrets);
    assert.equal(await files.get('token'), 's3cr3t-token');
    assert.equal(await files.get('absent'), undefined);
    assert.equal(await files.get('../etc/passwd'), undefined, 'names cannot escape the directory');
    const env = new EnvSecretProvider({
      prefix: 'LATHE_SECRET_',
      env: { LATHE_SECRET_db: 'pw', db: 'nope' },
    });
    assert.equal(await env.get('db'), 'pw');

    const open = join(dir.path, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    writeFileSync(join(open, 'x'), 'y');
    await assert.rejects(new FileSecretProvider(open).get('x'), SecretProviderError);
    assert.equal(await new FileSecretProvider(open, { requirePrivateDirectory: false }).get('x'), 'y');

    const manager = new SecretManager([env, files]);
    const redactor = new Redactor();
    const c = ctxWith({ user: 'ci' }, { getSecret: manager.forBuild(redactor) });
    const url = await render(interpolate('https://%(prop:user)s:%(secret:token)s@git.example.org'), c);
    assert.equal(url, 'https://ci:s3cr3t-token@git.example.org');
    assert.equal(await render(secret('db'), c), 'pw');
    assert.equal(
      redactor.redact(`cloning ${url} with pw`),
      'cloning https://ci:<secret>@git.example.org with <secret>',
    );
    assert.deepEqual(redactor.redactValue({ url, n: 1, list: ['pw'] }), {
      url: 'https://ci:<secret>@git.example.org',
      n: 1,
      list: ['<secret>'],
    });
    await assert.rejects(render(interpolate('%(secret:nope)s'), c), SecretNotFoundError);
    await assert.rejects(render(secret('x'), ctxWith({})), /no secrets are configured/);
  });

  it('redacts secrets split across chunks at every split point, holding back only possible prefixes', () => {
    const r = new Redactor();
    r.add('hunter2hunter2', 'pw');
    r.add('abc', 'short');
    r.add('abcdefgh', 'long');
    const text = 'login hunter2hunter2 ok; abc then abcdefgh and abcd, hunter2 end';
    const expected = 'login <secret> ok; <secret> then <secret> and <secret>d, hunter2 end';
    assert.equal(r.redact(text), expected);
    for (let a = 0; a <= text.length; a++) {
      for (let b = a; b <= text.length; b += 3) {
        const s = r.stream();
        const out = s.push(text.slice(0, a)) + s.push(text.slice(a, b)) + s.push(text.slice(b)) + s.flush();
        assert.equal(out, expected, `split at ${a}/${b}`);
      }
    }
    const s = r.stream();
    assert.equal(s.push('plain output\n'), 'plain output\n', 'ordinary text is not delayed');
    assert.equal(s.push('password: hunt'), 'password: ');
    assert.equal(s.pending, 4);
    assert.equal(s.push('er2hunter2\n'), '<secret>\n');
  });

  it('redacts each line of a multi-line secret and a streamed one byte at a time', () => {
    const r = new Redactor();
    const key = '-----BEGIN KEY-----\nAAAAB3NzaC1yc2E\n-----END KEY-----';
    r.add(key, 'key');
    assert.equal(r.redact(`k=${key}.`), 'k=<secret>.');
    assert.equal(r.redact('line: AAAAB3NzaC1yc2E'), 'line: <secret>');
    const s = r.stream();
    let out = '';
    for (const ch of `x${key}y`) out += s.push(ch);
    out += s.flush();
    assert.equal(out, 'x<secret>y');
    const none = new Redactor();
    assert.equal(none.stream().push('anything'), 'anything');
    none.add('');
    assert.equal(none.size, 0);
  });

  it('redacts secrets in the shell-quoted, backslash-escaped, Python repr and JSON forms workers echo', () => {
    const r = new Redactor();
    r.add('pa ss', 'a');
    r.add("it's", 'b');
    r.add('back\\slash\nnewline', 'c');
    // What buildbot-worker's header shows (pipes.quote), and printf %q.
    assert.equal(r.redact("echo 'pa ss' pa\\ ss"), "echo '<secret>' <secret>");
    assert.equal(r.redact(`echo 'it'"'"'s'`), "echo '<secret>'");
    // Python repr() in either quoting, and its escapes.
    assert.equal(r.redact(`['it\\'s', "it's"]`), '[\'<secret>\', "<secret>"]');
    assert.equal(r.redact("'back\\\\slash\\nnewline'"), "'<secret>'");
    assert.equal(r.redact('{"v":"back\\\\slash\\nnewline"}'), '{"v":"<secret>"}');
    const s = r.stream();
    assert.equal(s.push("cmd 'it'\"'") + s.push(`"'s' done`) + s.flush(), "cmd '<secret>' done");
  });

  it('uses the first provider that knows a secret', async () => {
    const m = new SecretManager([
      new StaticSecretProvider({ a: 'first' }),
      new StaticSecretProvider({ a: 'second', b: 'b' }),
    ]);
    assert.equal(await m.get('a'), 'first');
    assert.equal(await m.get('b'), 'b');
  });
});
