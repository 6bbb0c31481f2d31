// Type-checks and bundles the web app (app/ → dist/app) when its sources are newer than
// the last build, so `npm run build` (run before every ./dev command) stays quick.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const pkg = new URL('..', import.meta.url).pathname;
const built = join(pkg, 'dist/app/index.html');

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

const sources = ['app', 'vite.config.ts', 'package.json'].map((p) => join(pkg, p));
if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) process.exit(0);

for (const [cmd, ...args] of [
  ['tsc', '-p', 'app'],
  ['vite', 'build', '--logLevel', 'warn'],
]) {
  const bin = join(pkg, '../../node_modules/.bin', cmd);
  const r = spawnSync(bin, args, { cwd: pkg, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`@lathe/www: ${cmd} ${args.join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
}
