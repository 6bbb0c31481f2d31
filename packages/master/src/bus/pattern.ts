// AMQP-style topic patterns over dot-separated routing keys: `*` matches exactly one
// segment, `#` any number of segments (including none). A pattern only has to match the
// leading segments of a key — `build.finished` matches `build.finished.<builderid>.<buildid>`
// — because the ids after the kind are there to narrow a subscription, not to be required.

export type CompiledPattern = readonly string[];

export function compilePattern(pattern: string): CompiledPattern {
  if (pattern === '') throw new Error('empty subscription pattern');
  const segments = pattern.split('.');
  if (segments.includes(''))
    throw new Error(`subscription pattern ${JSON.stringify(pattern)} has an empty segment`);
  if (segments[segments.length - 1] !== '#') segments.push('#');
  return segments;
}

export function matches(pattern: CompiledPattern, key: readonly string[], p = 0, k = 0): boolean {
  for (;;) {
    if (p === pattern.length) return k === key.length;
    const seg = pattern[p];
    if (seg === '#') {
      // Try every possible length for the '#' match; keys are short, so this stays cheap.
      for (let skip = k; skip <= key.length; skip++) {
        if (matches(pattern, key, p + 1, skip)) return true;
      }
      return false;
    }
    if (k === key.length) return false;
    if (seg !== '*' && seg !== key[k]) return false;
    p++;
    k++;
  }
}

/**
 * Whether `pattern` matches some routing key of the event kind `kind` (its segments),
 * whatever ids follow them: a pattern segment past the kind's may match an id.
 */
export function mayMatchKind(pattern: CompiledPattern, kind: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const seg = pattern[i];
    if (seg === '#' || i >= kind.length) return true;
    if (seg !== '*' && seg !== kind[i]) return false;
  }
  return pattern.length >= kind.length;
}
