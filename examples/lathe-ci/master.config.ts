// Lathe builds Lathe: the reference installation (README.md beside this file says how to
// start it). A git poller watches this repository's branch; every new commit becomes a
// change, the single-branch scheduler turns each change into a build, and a Lathe worker
// checks that commit out and runs the test suite.
//
// What differs from one machine to the next (where the repository is, the worker's password,
// the port) is in lathe-ci.json next to this file, written by start.mjs. (So this file is
// type-checked by `lathe checkconfig` in a master directory, not by the examples' build.)
import {
  buildFactory,
  defineBuilder,
  defineConfig,
  defineWorker,
  git,
  gitPoller,
  shellCommand,
  singleBranchScheduler,
} from '@lathe/master';
import settings from './lathe-ci.json' with { type: 'json' };

// settings: { repository (absolute path), branch, workerPort, workerPassword, pollInterval
// (seconds), test (argv; by default the whole suite, ["./dev", "npm", "test"]) }.
const WORKER = 'lathe-ci-worker';

export default defineConfig({
  title: 'Lathe CI',
  workerPort: settings.workerPort,
  workers: [defineWorker({ name: WORKER, password: settings.workerPassword, maxBuilds: 1 })],

  changeSources: [
    gitPoller({
      repourl: settings.repository,
      branches: [settings.branch],
      pollInterval: settings.pollInterval,
    }),
  ],
  schedulers: [
    // Every commit gets its own build: no tree-stable timer.
    singleBranchScheduler({ name: 'every-commit', branch: settings.branch, builderNames: ['lathe'] }),
  ],

  builders: [
    defineBuilder({
      name: 'lathe',
      description: "checks out the commit and runs Lathe's tests",
      workerNames: [WORKER],
      factory: buildFactory(
        // Incremental: the checkout keeps its .tools/ and node_modules/ between builds, so
        // only the first build downloads the toolchain and the npm packages.
        git({ repourl: settings.repository, branch: settings.branch, mode: 'incremental' }),
        // ./dev installs the toolchain when missing, builds, then runs the command.
        shellCommand({ name: 'test', command: [...settings.test], timeout: 1800 }),
      ),
    }),
  ],
});
