// The commands people send the bot (`lathebot: status` in a channel, `status` in a private
// message) and their answers. Reads go through the data API; force and stop run the data
// API's own actions, so they go through a force scheduler and refuse what HTTP refuses.
import { ActionError } from '../../api/actions/action.js';
import { forceAction } from '../../api/actions/builders.js';
import { stopBuildAction } from '../../api/actions/builds.js';
import { ApiNotFoundError, type Resource } from '../../api/data-api.js';
import { QueryError } from '../../api/query.js';
import { epochSeconds } from '../../data/context.js';
import { isResult, resultName } from '../../results.js';
import { type AccessList, type IrcSender, ircLower } from './access.js';
import type { IrcBotHost } from './host.js';
import type { IrcAction } from './options.js';
import {
  DEFAULT_NOTIFY_EVENTS,
  NOTIFY_EVENTS,
  type NotifyEvent,
  type NotifyStore,
  type Subscriptions,
  TooManyError,
} from './subscriptions.js';

/** `status` lists at most this many builders; more would flood the channel. */
const MAX_STATUS_LINES = 10;

const HELP: Readonly<Record<string, string>> = {
  status: 'status [builder] — each builder: idle or building, and its last result',
  last: 'last <builder> — the builder’s last finished build',
  force: 'force <builder> [reason] — queue a build (if you are allowed to)',
  stop: 'stop <builder> [reason] — stop the builder’s running builds (if you are allowed to)',
  watch: 'watch <builder> — tell you here when its running builds finish',
  notify: `notify on|off|list [events] — private messages about builds; events: ${NOTIFY_EVENTS.join(', ')} (default ${DEFAULT_NOTIFY_EVENTS.join(', ')})`,
  help: 'help [command] — this',
  version: 'version — which Lathe this is',
};

/** A command the bot was sent, and where its answer goes. */
export interface CommandRequest {
  readonly sender: IrcSender;
  /** The words after the bot's name (or the whole private message). */
  readonly text: string;
  /** The channel it was asked in, or the sender's nick for a private message. */
  readonly replyTo: string;
}

/** A refusal or an answer the user caused (bad builder, not allowed): said, not logged. */
class UserError extends Error {}

const result = (r: unknown) => (isResult(r) ? resultName(r) : 'unknown result');

function ago(at: number): string {
  const s = Math.max(0, Math.round(epochSeconds() - at));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

export class BotCommands {
  constructor(
    private readonly host: IrcBotHost,
    private readonly access: AccessList,
    private readonly subscriptions: Subscriptions,
    private readonly log: (level: 'warn' | 'error', message: string) => void,
    private readonly store: NotifyStore | null = null,
  ) {}

  /** The lines to answer with. Never throws: failures become an answer. */
  async run(request: CommandRequest): Promise<string[]> {
    const [word = '', ...args] = request.text.trim().split(/\s+/);
    const command = word.toLowerCase();
    try {
      switch (command) {
        case 'status':
          return await this.#status(args[0]);
        case 'last':
          return await this.#last(this.#builderArg(command, args));
        case 'force':
          return await this.#force(request, this.#builderArg(command, args), args.slice(1).join(' '));
        case 'stop':
          return await this.#stop(request, this.#builderArg(command, args), args.slice(1).join(' '));
        case 'watch':
          return await this.#watch(request, this.#builderArg(command, args));
        case 'notify':
          return await this.#notify(request.sender.nick, args);
        case 'help':
          return this.#help(args[0]);
        case 'version':
          return [this.host.version];
        default:
          return [
            `unknown command ${JSON.stringify(word.slice(0, 30))}; commands: ${Object.keys(HELP).join(', ')} (help <command> for more)`,
          ];
      }
    } catch (err) {
      if (err instanceof UserError || err instanceof ActionError || err instanceof TooManyError)
        return [err.message];
      this.log(
        'error',
        `command ${JSON.stringify(command)} from ${request.sender.nick} failed: ${String(err)}`,
      );
      return ['sorry, that failed on the master (the master log says why)'];
    }
  }

  #help(topic: string | undefined): string[] {
    if (topic) {
      const line = HELP[topic.toLowerCase()];
      return [
        line ?? `no command ${JSON.stringify(topic.slice(0, 30))}; commands: ${Object.keys(HELP).join(', ')}`,
      ];
    }
    return [
      `commands: ${Object.keys(HELP).join(', ')} — address me as "<my nick>: <command>" in a channel, or message me; help <command> says more`,
    ];
  }

  #builderArg(command: string, args: readonly string[]): string {
    const name = args[0];
    if (!name) throw new UserError(`usage: ${HELP[command]}`);
    return name;
  }

  #mayOrRefuse(sender: IrcSender, action: IrcAction): void {
    if (!this.access.may(sender, action))
      throw new UserError(
        `you (${sender.nick}) may not ${action} builds: ask the master's admin to allow you`,
      );
  }

  async #builder(name: string): Promise<Resource> {
    try {
      const body = await this.host.read(`/builders/${encodeURIComponent(name)}`, {
        field: ['builderid', 'name', 'masterids'],
      });
      return (body.builders as Resource[])[0]!;
    } catch (err) {
      if (err instanceof ApiNotFoundError || err instanceof QueryError)
        throw new UserError(`no builder named ${JSON.stringify(name.slice(0, 60))}`);
      throw err;
    }
  }

  async #running(builderid: number): Promise<Resource[]> {
    const body = await this.host.read(`/builders/${builderid}/builds`, {
      complete: 'false',
      field: ['buildid', 'number', 'builderid'],
    });
    return (body.builds as Resource[]).sort((a, b) => (a.number as number) - (b.number as number));
  }

  async #status(only: string | undefined): Promise<string[]> {
    let builders: Resource[];
    if (only) builders = [await this.#builder(only)];
    else {
      const body = await this.host.read('/builders', { field: ['builderid', 'name', 'masterids'] });
      builders = (body.builders as Resource[])
        .filter((b) => (b.masterids as unknown[]).length > 0)
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    }
    if (builders.length === 0) return ['no builders are configured'];
    const [running, finished] = await Promise.all([
      this.host.read('/builds', { complete: 'false', field: ['builderid', 'number'] }),
      this.host.read('/lastfinishedbuilds', { field: ['builderid', 'number', 'results', 'complete_at'] }),
    ]);
    const lines = builders.slice(0, MAX_STATUS_LINES).map((b) => {
      const numbers = (running.builds as Resource[])
        .filter((r) => r.builderid === b.builderid)
        .map((r) => `#${r.number}`)
        .sort();
      const last = (finished.builds as Resource[]).find((r) => r.builderid === b.builderid);
      const state = numbers.length > 0 ? `building ${numbers.join(', ')}` : 'idle';
      const lastText = last
        ? `last build #${last.number} ${result(last.results)} ${ago(last.complete_at as number)}`
        : 'no builds yet';
      return `${b.name}: ${state}; ${lastText}`;
    });
    if (builders.length > MAX_STATUS_LINES)
      lines.push(`… and ${builders.length - MAX_STATUS_LINES} more builders: ask "status <builder>"`);
    return lines;
  }

  async #last(name: string): Promise<string[]> {
    const builder = await this.#builder(name);
    const body = await this.host.read(`/builders/${builder.builderid}/builds`, {
      complete: 'true',
      order: '-number',
      limit: '1',
    });
    const build = (body.builds as Resource[])[0];
    if (!build) return [`${builder.name} has no finished builds yet`];
    const url = this.host.buildUrl(builder.builderid as number, build.number as number);
    return [
      `build #${build.number} of ${builder.name}: ${result(build.results)} (${build.state_string}), ` +
        `finished ${ago(build.complete_at as number)} — ${url}`,
    ];
  }

  async #force(request: CommandRequest, name: string, reason: string): Promise<string[]> {
    const { sender } = request;
    this.#mayOrRefuse(sender, 'force');
    const builder = await this.#builder(name);
    const forced = (await this.host.act(
      forceAction,
      `/builders/${builder.builderid}`,
      { reason: reason || `forced by ${sender.nick} on IRC` },
      `irc:${sender.nick}`,
    )) as { buildsetid: number; buildrequestid: number };
    let follow = "I'll say here when it finishes";
    try {
      this.subscriptions.watchRequest(forced.buildrequestid, { replyTo: request.replyTo, nick: sender.nick });
    } catch (err) {
      if (!(err instanceof TooManyError)) throw err;
      follow = `I won't follow it: ${err.message}`;
    }
    return [
      `build request ${forced.buildrequestid} of ${builder.name} queued (buildset ${forced.buildsetid}); ${follow}`,
    ];
  }

  async #stop(request: CommandRequest, name: string, reason: string): Promise<string[]> {
    const { sender } = request;
    this.#mayOrRefuse(sender, 'stop');
    const builder = await this.#builder(name);
    const running = await this.#running(builder.builderid as number);
    if (running.length === 0) return [`no build of ${builder.name} is running`];
    const lines: string[] = [];
    for (const build of running) {
      try {
        await this.host.act(
          stopBuildAction,
          `/builds/${build.buildid}`,
          { reason: reason || `stopped by ${sender.nick} on IRC` },
          `irc:${sender.nick}`,
        );
        lines.push(`stopping build #${build.number} of ${builder.name}`);
      } catch (err) {
        // One build may finish (or run on another master) while its neighbours stop.
        if (!(err instanceof ActionError)) throw err;
        lines.push(`build #${build.number} of ${builder.name}: ${err.message}`);
      }
    }
    return lines;
  }

  async #watch(request: CommandRequest, name: string): Promise<string[]> {
    const builder = await this.#builder(name);
    const running = await this.#running(builder.builderid as number);
    if (running.length === 0) return [`no build of ${builder.name} is running`];
    for (const build of running)
      this.subscriptions.watchBuild(build.buildid as number, {
        replyTo: request.replyTo,
        nick: request.sender.nick,
      });
    const numbers = running.map((b) => `#${b.number}`).join(', ');
    return [`watching build ${numbers} of ${builder.name}: I'll say here when it finishes`];
  }

  async #notify(nick: string, args: readonly string[]): Promise<string[]> {
    const [mode = 'list', ...names] = args.map((a) => a.toLowerCase());
    const unknown = names.filter((n) => !(NOTIFY_EVENTS as readonly string[]).includes(n));
    if (unknown.length > 0)
      throw new UserError(
        `unknown event ${JSON.stringify(unknown[0]!.slice(0, 30))}; events: ${NOTIFY_EVENTS.join(', ')}`,
      );
    const events = names as NotifyEvent[];
    const describe = (now: readonly NotifyEvent[]) =>
      now.length > 0
        ? `I'll tell you by private message about: ${now.join(', ')}`
        : 'you get no notifications from me';
    let now: NotifyEvent[];
    switch (mode) {
      case 'on':
        now = this.subscriptions.notifyOn(nick, events.length > 0 ? events : DEFAULT_NOTIFY_EVENTS);
        break;
      case 'off':
        now = this.subscriptions.notifyOff(nick, events);
        break;
      case 'list':
        return [describe(this.subscriptions.notifyEvents(nick))];
      default:
        throw new UserError(`usage: ${HELP.notify}`);
    }
    try {
      await this.store?.save(ircLower(nick), nick, now);
    } catch (err) {
      this.log('error', `notify subscription of ${nick} not stored: ${String(err)}`);
      return [`${describe(now)} (until the master restarts: I could not store it)`];
    }
    return [describe(now)];
  }
}
