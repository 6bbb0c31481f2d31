// Git in a test repository, as one author (Ann) whatever the machine's git config says.
import { execFileSync } from 'node:child_process';

/** Runs `git -C repo …` and returns its trimmed output. */
export function gitIn(repo: string): (...args: string[]) => string {
  return (...args) =>
    execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Ann',
        GIT_AUTHOR_EMAIL: 'ann@example.invalid',
        GIT_COMMITTER_NAME: 'Ann',
        GIT_COMMITTER_EMAIL: 'ann@example.invalid',
      },
    }).trim();
}
