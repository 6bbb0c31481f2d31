// Reads index.html's inline script started before the app loaded (the first reads of the
// page the URL names), and those an in-app navigation started as a link was pressed: the
// app's first read of one of those URLs takes its answer instead of asking again. Each is
// taken once, so every later read (a reload, a live update) asks the server.

declare global {
  interface Window {
    __latheEarlyReads?: Map<string, Promise<Response>>;
  }
}

/** The early answer for `url`, if the page started one and nobody took it yet. */
export function takeEarlyRead(url: string): Promise<Response> | undefined {
  const early = window.__latheEarlyReads;
  const answer = early?.get(url);
  early?.delete(url);
  return answer;
}

/** How long a read started ahead of a navigation waits to be taken: a press that never became a click. */
const AHEAD_MS = 3000;

/**
 * Starts reading `url` for a page about to be shown (a link to it was pressed), unless that
 * read is already under way: the page's first read of `url` takes this answer, as it takes
 * index.html's. Not taken within AHEAD_MS, it is dropped, so a later visit reads afresh.
 */
export function startEarlyRead(url: string): void {
  window.__latheEarlyReads ??= new Map();
  const early = window.__latheEarlyReads;
  if (early.has(url)) return;
  const answer = fetch(url, { headers: { accept: 'application/json' } });
  // Whoever takes it sees a failure; one nobody takes is not an unhandled rejection.
  answer.catch(() => {});
  early.set(url, answer);
  setTimeout(() => {
    if (early.get(url) === answer) early.delete(url);
  }, AHEAD_MS);
}
