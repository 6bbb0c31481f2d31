// Buildbot's transfer steps: FileUpload, DirectoryUpload (worker → master), FileDownload
// and StringDownload (master → worker). The master-side file object goes to the worker by
// reference in the command arguments, in Buildbot 3.7's key order; the worker drives the
// transfer by calling it. A failed or interrupted transfer leaves no partial file behind.
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { StepContext } from '../../config/steps.js';
import { FAILURE, type Result, SUCCESS } from '../../results.js';
import { type StepValue, stepValue } from '../args.js';
import { Step, type StepOptions } from '../base.js';
import {
  DirectoryWriter,
  FileReader,
  FileWriter,
  StringFileReader,
  type TarCompression,
} from './remote-files.js';

interface TransferOptions extends StepOptions {
  /** Relative to the builder's directory on the worker; default `build`. */
  readonly workdir?: StepValue<string>;
  /** Largest transfer in bytes; longer files are truncated and the step fails. Default none. */
  readonly maxsize?: number | null;
  /** Bytes per remote call. */
  readonly blocksize?: number;
}

/** A master path as Buildbot resolves it: `~` expanded, relative to the master's directory. */
export function masterPath(ctx: StepContext, path: string): string {
  const expanded = path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
  return isAbsolute(expanded) ? expanded : join(ctx.masterBasedir, expanded);
}

async function transfer(
  ctx: StepContext,
  name: string,
  args: Record<string, unknown>,
  cleanup?: () => Promise<void>,
): Promise<Result> {
  let ok = false;
  try {
    const outcome = await ctx.runCommand({ name, args, logName: 'stdio' });
    ok = outcome.rc === 0 && !outcome.interrupted;
    return ok ? SUCCESS : FAILURE;
  } finally {
    if (!ok) await cleanup?.();
  }
}

/** What every upload does first: resolve its paths, say what it does, show its link. */
async function startUpload(
  ctx: StepContext,
  o: TransferOptions & {
    workersrc: StepValue<string>;
    masterdest: StepValue<string>;
    url?: StepValue<string>;
    urlText?: string;
  },
): Promise<{ source: string; dest: string; workdir: string }> {
  const source = await stepValue(o.workersrc, ctx);
  const dest = masterPath(ctx, await stepValue(o.masterdest, ctx));
  await ctx.setState(`uploading ${source}`);
  if (o.url !== undefined) await ctx.addUrl(o.urlText ?? source, await stepValue(o.url, ctx));
  const workdir = o.workdir === undefined ? 'build' : await stepValue(o.workdir, ctx);
  return { source, dest, workdir };
}

export interface FileUploadOptions extends TransferOptions {
  /** The file on the worker, relative to workdir. */
  readonly workersrc: StepValue<string>;
  /** Where it goes on the master, relative to the master's directory. */
  readonly masterdest: StepValue<string>;
  /** chmod applied to the uploaded file (e.g. 0o644); default the umask's. */
  readonly mode?: number | null;
  /** Keep the worker file's access and modification times. */
  readonly keepstamp?: boolean;
  /** A link shown on the step, e.g. where the web server publishes the file. */
  readonly url?: StepValue<string>;
  readonly urlText?: string;
}

export class FileUpload extends Step<FileUploadOptions> {
  constructor(options: FileUploadOptions) {
    super(options, 'upload');
  }

  async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const { source, dest, workdir } = await startUpload(ctx, o);
    const writer = new FileWriter(dest, o.maxsize ?? null, o.mode ?? null);
    return transfer(
      ctx,
      'uploadFile',
      {
        workdir,
        writer,
        maxsize: o.maxsize ?? null,
        blocksize: o.blocksize ?? 256 * 1024,
        keepstamp: o.keepstamp ?? false,
        workersrc: source,
      },
      () => writer.cancel(),
    );
  }
}

export interface DirectoryUploadOptions extends TransferOptions {
  readonly workersrc: StepValue<string>;
  /** The directory on the master the tree is extracted into. */
  readonly masterdest: StepValue<string>;
  readonly compress?: TarCompression;
  readonly url?: StepValue<string>;
  readonly urlText?: string;
}

export class DirectoryUpload extends Step<DirectoryUploadOptions> {
  constructor(options: DirectoryUploadOptions) {
    super(options, 'upload');
  }

  async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const { source, dest, workdir } = await startUpload(ctx, o);
    const writer = new DirectoryWriter(dest, o.maxsize ?? null, o.compress ?? null);
    return transfer(
      ctx,
      'uploadDirectory',
      {
        workdir,
        writer,
        maxsize: o.maxsize ?? null,
        blocksize: o.blocksize ?? 16 * 1024,
        compress: o.compress ?? null,
        workersrc: source,
      },
      () => writer.cancel(),
    );
  }
}

export interface DownloadOptions extends TransferOptions {
  /** Where the file goes on the worker, relative to workdir. */
  readonly workerdest: StepValue<string>;
  /** chmod applied on the worker (e.g. 0o755); default the worker's umask. */
  readonly mode?: number | null;
}

function downloadArgs(o: DownloadOptions, reader: unknown, workdir: string, dest: string) {
  return {
    maxsize: o.maxsize ?? null,
    reader,
    blocksize: o.blocksize ?? 16 * 1024,
    workdir,
    mode: o.mode ?? null,
    workerdest: dest,
  };
}

export interface FileDownloadOptions extends DownloadOptions {
  /** The master file, relative to the master's directory. */
  readonly mastersrc: StepValue<string>;
}

export class FileDownload extends Step<FileDownloadOptions> {
  constructor(options: FileDownloadOptions) {
    super(options, 'download');
  }

  async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const source = masterPath(ctx, await stepValue(o.mastersrc, ctx));
    const dest = await stepValue(o.workerdest, ctx);
    const workdir = o.workdir === undefined ? 'build' : await stepValue(o.workdir, ctx);
    await ctx.setState(`downloading to ${dest}`);
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(source, 'r');
    } catch {
      const log = await ctx.addLog('stderr');
      await log.write('e', `File ${JSON.stringify(source)} not available at master\n`);
      return FAILURE;
    }
    const reader = new FileReader(fh);
    try {
      return await transfer(ctx, 'downloadFile', downloadArgs(o, reader, workdir, dest));
    } finally {
      // The worker closes the reader; this covers a transfer that never got that far.
      await reader.remote_close().catch(() => {});
    }
  }
}

export interface StringDownloadOptions extends DownloadOptions {
  /** The file's content, e.g. `interpolate('%(prop:got_revision)s')`. */
  readonly s: StepValue<string>;
}

export class StringDownload extends Step<StringDownloadOptions> {
  constructor(options: StringDownloadOptions) {
    super(options, 'string_download');
  }

  async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const dest = await stepValue(o.workerdest, ctx);
    const workdir = o.workdir === undefined ? 'build' : await stepValue(o.workdir, ctx);
    await ctx.setState(`downloading to ${dest}`);
    const reader = new StringFileReader(await stepValue(o.s, ctx));
    return transfer(ctx, 'downloadFile', downloadArgs(o, reader, workdir, dest));
  }
}

export const fileUpload = (o: FileUploadOptions) => new FileUpload(o);
export const directoryUpload = (o: DirectoryUploadOptions) => new DirectoryUpload(o);
export const fileDownload = (o: FileDownloadOptions) => new FileDownload(o);
export const stringDownload = (o: StringDownloadOptions) => new StringDownload(o);
