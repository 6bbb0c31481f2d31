// The IRC bot (`@lathe/master/irc`): a reporter that announces builds and takes commands.
// Apart from the main entry point so that loading a config that does not use it does not
// load irc-framework.
export { AccessList, type IrcSender, ircLower } from './access.js';
export { announcement, blamedAuthors } from './format.js';
export { type BuildEvent, type IrcBotHost, masterBotHost } from './host.js';
export {
  IRC_ACTIONS,
  type IrcAction,
  type IrcChannel,
  type IrcFormatter,
  IrcOptionsError,
  type IrcReporterOptions,
  type IrcSettings,
  resolveIrcOptions,
} from './options.js';
export { IrcNotConnectedError, IrcReporter, type IrcReporterDeps, ircReporter } from './reporter.js';
export { NOTIFY_EVENTS, type NotifyEvent, type NotifyStore } from './subscriptions.js';
