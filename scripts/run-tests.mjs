// Runs every compiled test file with node:test. Tests of packages that promise to run
// on Node 20 (@lathe/pb, @lathe/worker) run a second time on the system Node.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const extra = process.argv.slice(2);

function testFiles(pkg) {
  const dir = join(root, 'packages', pkg, 'dist', 'test');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .filter((f) => String(f).endsWith('.test.js'))
    .map((f) => join(dir, String(f)))
    .sort();
}

const all = ['pb', 'worker', 'master', 'www'].flatMap(testFiles);
const node20 = ['pb', 'worker'].flatMap(testFiles).filter((f) => !f.includes('.node24.'));

function run(nodeBin, files, label) {
  if (files.length === 0) return 0;
  console.log(`\n### ${label}: ${files.length} test files on ${nodeBin}`);
  const r = spawnSync(nodeBin, ['--test', '--test-concurrency=2', ...extra, ...files], {
    stdio: 'inherit',
    cwd: root,
  });
  return r.status ?? 1;
}

let status = run(process.execPath, all, 'all packages');
const systemNode = process.env.LATHE_SYSTEM_NODE;
if (systemNode && existsSync(systemNode)) {
  status = run(systemNode, node20, 'pb + worker on the system Node') || status;
}
process.exit(status);
