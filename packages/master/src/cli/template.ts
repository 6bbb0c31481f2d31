// What `lathe create-master` writes: a commented sample configuration and the tiny
// project its builder builds. Kept as text so a new user reads exactly what runs.

export interface TemplateOptions {
  readonly workerName: string;
  readonly workerPassword: string;
  readonly workerPort: number;
  /** Port of the data API (`www`), or null to leave it commented out. */
  readonly wwwPort?: number | null;
  /** Absolute path of the sample project the builder copies and tests. */
  readonly sampleProject: string;
  /**
   * Use the `shellCommand` step of @lathe/master's step library. Without it (a build of
   * the master that predates the library) the config defines its own small shell step.
   */
  readonly stepLibrary: boolean;
}

const LIBRARY_HEADER = `import { buildFactory, defineBuilder, defineConfig, defineWorker, shellCommand } from '@lathe/master';

// shellCommand runs one command on the worker, in the builder's "build" directory; exit
// status 0 gives SUCCESS, anything else FAILURE. Its output is kept in the log "stdio".
const shell = (name: string, command: string[]) => shellCommand({ name, command });
`;

const INLINE_HEADER = `import {
  type BuildStep,
  buildFactory,
  defineBuilder,
  defineConfig,
  defineWorker,
  FAILURE,
  SUCCESS,
} from '@lathe/master';

// A step that runs one command on the worker (in the builder's "build" directory) and
// passes when the command exits with status 0. Its output is kept in the log "stdio".
function shell(name: string, command: string[]): BuildStep {
  return {
    name,
    async run(ctx) {
      const outcome = await ctx.runCommand({
        name: 'shell',
        args: { command, workdir: 'build' },
        logName: 'stdio',
      });
      return outcome.rc === 0 ? SUCCESS : FAILURE;
    },
  };
}
`;

/** A TypeScript string literal in the style of the rest of the file. */
const q = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;

export function configTemplate(o: TemplateOptions): string {
  return `// Lathe master configuration. After editing, check it with
//   lathe checkconfig .
// and apply it to a running master without a restart with
//   lathe reconfig .
${o.stepLibrary ? LIBRARY_HEADER : INLINE_HEADER}
// The project the sample builder builds: a copy of it is tested on every build.
const sampleProject = ${q(o.sampleProject)};

export default defineConfig({
  title: 'Lathe sample master',
  // Links to builds (a trigger step's, for example) start here, in Buildbot's web UI
  // format; Lathe's own web UI is planned. An absolute URL ending with '/'.
  buildbotURL: 'http://localhost:8010/',

  // Workers connect to this port. Each worker needs an entry here; its name and password
  // must match what the worker was created with (lathe-worker create ... NAME PASSWORD).
  workerPort: ${o.workerPort},
  workers: [
    defineWorker({ name: ${q(o.workerName)}, password: ${q(o.workerPassword)}, maxBuilds: 1 }),
  ],

  // A builder turns a build request into a build: which workers may run it, and the steps.
  builders: [
    defineBuilder({
      name: 'sample',
      description: 'copies the sample project and runs its tests',
      workerNames: [${q(o.workerName)}],
      factory: buildFactory(
        shell('fetch', ['cp', '-R', \`\${sampleProject}/.\`, '.']),
        shell('node version', ['node', '--version']),
        shell('test', ['node', '--test']),
      ),
    }),
  ],

  // Where builds, logs and state are kept (relative to this directory), or PostgreSQL:
  // 'postgres://user:password@host:5432/lathe' (lathe copy-db moves the data over).
  db: { url: 'sqlite:state.sqlite' },

  // The data API over HTTP: REST under /api/v2/ (builders, builds, steps, logs, …), realtime
  // over WebSocket and SSE, the OpenAPI document at /api/v2/openapi.json. It listens on
  // 127.0.0.1 unless \`host\` says otherwise; without \`www\` the master serves no HTTP.
  ${o.wwwPort == null ? '// www: { port: 8010 },' : `www: { port: ${o.wwwPort} },`}
});
`;
}

export const sampleProjectFiles: Readonly<Record<string, string>> = {
  'greet.mjs': `// The sample project's code.
export function greet(name) {
  return \`Hello, \${name}!\`;
}
`,
  'greet.test.mjs': `// The sample project's test, run by the sample builder's "test" step.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { greet } from './greet.mjs';

test('greets by name', () => {
  assert.equal(greet('Lathe'), 'Hello, Lathe!');
});
`,
};
