// The delivery channels that talk HTTP: HTTP push, chat and commit status. Each is a
// `Reporter` (report.ts); the framework decides which reports reach them and retries.

export { DiscordReporter, type DiscordReporterOptions } from './chat/discord.js';
export { MatrixReporter, type MatrixReporterOptions } from './chat/matrix.js';
export {
  type ChatField,
  type ChatFormatter,
  type ChatMessage,
  type ChatTone,
  chatMessage,
} from './chat/message.js';
export { SlackReporter, type SlackReporterOptions } from './chat/slack.js';
export { ZulipReporter, type ZulipReporterOptions } from './chat/zulip.js';
export { type BitbucketStatusOptions, BitbucketStatusReporter } from './commit-status/bitbucket.js';
export type { CommitStatusOptions } from './commit-status/common.js';
export { type GiteaStatusOptions, GiteaStatusReporter } from './commit-status/gitea.js';
export { GitHubStatusReporter } from './commit-status/github.js';
export { GitLabStatusReporter } from './commit-status/gitlab.js';
export { PermanentHttpError, RetryableDeliveryError } from './http/errors.js';
export {
  HttpPushReporter,
  type HttpPushReporterOptions,
  type HttpPushTlsOptions,
  signature,
} from './http-push.js';
export { type SecretLookup, type SecretOption, type UsesSecrets, usesSecrets } from './secret-option.js';
