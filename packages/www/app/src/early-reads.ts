// Reads index.html's inline script started before the app loaded (the first reads of the
// page the URL names): the app's first read of one of those URLs takes its answer instead
// of asking again. Each is taken once, so every later read (a reload, a live update) asks
// the server.

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
