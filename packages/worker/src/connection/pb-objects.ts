/**
 * The worker's objects as the master sees them over PB: the Bot (the login "mind")
 * and one object per builder. They only translate calls; the behaviour lives in
 * `Bot` and `WorkerForBuilder`.
 */
import { CopyableFailure, Kwargs, Referenceable, type RemoteReference } from '@lathe/pb';
import type { Bot } from '../worker/bot.js';
import type { WorkerForBuilder } from '../worker/builder.js';
import { masterCommandRef } from './remote-adapters.js';

/** `print(message=…)` arrives with the message as a keyword argument, or positionally. */
function messageArg(args: unknown[]): string {
  const last = args[args.length - 1];
  if (last instanceof Kwargs) return String(last.values.message ?? '');
  return String(args[0] ?? '');
}

/** What the master calls on a builder: `startCommand`, `interruptCommand`, … */
export class BuilderReferenceable extends Referenceable {
  constructor(readonly builder: WorkerForBuilder) {
    super();
  }

  remote_startBuild(): void {
    this.builder.startBuild();
  }

  remote_print(...args: unknown[]): void {
    this.builder.print(messageArg(args));
  }

  remote_setMaster(): void {
    // Python workers keep the master's reference here for old protocol versions; we need nothing.
  }

  /**
   * Starts a command and answers at once; its updates and completion go to `commandRef`.
   * The master's reference (and the transfer references in `args`) are released when the
   * command is over, since a master may hold only so many exported objects.
   */
  remote_startCommand(
    commandRef: RemoteReference,
    commandId: unknown,
    commandName: unknown,
    args: unknown,
  ): void {
    const ref = masterCommandRef(commandRef, (failure) => new CopyableFailure(failure, true));
    const running = this.builder.startCommand(ref, String(commandId), String(commandName), args);
    void running.done.finally(() => {
      commandRef.release();
      releaseReferencesIn(args);
    });
  }

  remote_interruptCommand(commandId: unknown, why: unknown): void {
    this.builder.interruptCommand(String(commandId), String(why));
  }
}

function releaseReferencesIn(args: unknown): void {
  if (!args || typeof args !== 'object') return;
  for (const value of Object.values(args as Record<string, unknown>)) {
    if (typeof (value as RemoteReference | null)?.release === 'function')
      (value as RemoteReference).release();
  }
}

/** The mind handed to the master at login. */
export class BotReferenceable extends Referenceable {
  /** One Referenceable per builder object, so a builder keeps its luid across builder lists. */
  private readonly builderRefs = new WeakMap<WorkerForBuilder, BuilderReferenceable>();

  constructor(readonly bot: Bot) {
    super();
  }

  remote_print(...args: unknown[]): void {
    this.bot.print(messageArg(args));
  }

  remote_getWorkerInfo(): Record<string, unknown> {
    return this.bot.getWorkerInfo();
  }

  remote_getCommands(): Record<string, string> {
    return this.bot.getCommands();
  }

  remote_getVersion(): string {
    return this.bot.getVersion();
  }

  remote_setBuilderList(list: unknown): Record<string, BuilderReferenceable> {
    if (!Array.isArray(list)) throw new TypeError('setBuilderList expects a list of (name, builddir)');
    const pairs = list.map((entry) => {
      if (!Array.isArray(entry) || entry.length !== 2)
        throw new TypeError('builder entries are (name, builddir)');
      return [String(entry[0]), String(entry[1])] as const;
    });
    const builders = this.bot.setBuilderList(pairs);
    const answer: Record<string, BuilderReferenceable> = {};
    for (const [name, builder] of builders) {
      let ref = this.builderRefs.get(builder);
      if (!ref) {
        ref = new BuilderReferenceable(builder);
        this.builderRefs.set(builder, ref);
      }
      answer[name] = ref;
    }
    return answer;
  }

  remote_shutdown(): void {
    this.bot.shutdown();
  }
}
