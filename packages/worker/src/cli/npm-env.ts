/**
 * The environment a worker started through npm (`npx lathe-worker`, `npm exec`, an npm script,
 * or the repository's `./dev`) gives its builds, without what npm added: build steps get the
 * environment of whoever started the worker, as Buildbot's worker passes its own, and npm's
 * additions (its config as `npm_*` variables, `node_modules/.bin` and node-gyp directories
 * put first on PATH) would change which tools a build runs.
 *
 * npm's additions are recognised by what npm sets: lowercase `npm_` variables; `INIT_CWD`,
 * `COLOR` and `NODE` when npm ran us (`npm_execpath` is set); and PATH entries that are
 * `node_modules/.bin` or `node-gyp-bin` directories. Uppercase `NPM_*` variables (such as
 * `NPM_TOKEN`) are never npm's own and are kept, like everything else.
 */

const NPM_VARIABLE = /^npm_/;
const NPM_PATH_ENTRY = /(?:^|\/)(?:node_modules\/\.bin|node-gyp-bin)\/?$/;

export function withoutNpmAdditions(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const npmVariables = Object.keys(env).filter((k) => NPM_VARIABLE.test(k));
  if (npmVariables.length === 0) return { ...env };
  const ranByNpm = env.npm_execpath !== undefined;
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (NPM_VARIABLE.test(key)) continue;
    if (ranByNpm && (key === 'INIT_CWD' || key === 'COLOR')) continue;
    // npm points NODE at the Node.js it runs on; a NODE of the user's own is kept.
    if (ranByNpm && key === 'NODE' && value === env.npm_node_execpath) continue;
    clean[key] = value;
  }
  if (env.PATH !== undefined)
    clean.PATH = env.PATH.split(':')
      .filter((dir) => !NPM_PATH_ENTRY.test(dir))
      .join(':');
  return clean;
}

/** Makes this process's environment (inherited by the daemon and every build) npm-free. */
export function dropNpmAdditions(): void {
  const clean = withoutNpmAdditions(process.env);
  for (const key of Object.keys(process.env)) if (!(key in clean)) delete process.env[key];
  Object.assign(process.env, clean);
}
