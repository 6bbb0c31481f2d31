/**
 * The `pb` dialect's vocabulary (Twisted's `Banana.outgoingVocabulary`).
 *
 * Substitution is purely lexical: *any* byte string equal to one of these words
 * travels as a one-byte VOCAB element, wherever it appears — type tags, method
 * names, and user data alike. Index 0 is unused.
 */
export const PB_VOCABULARY: readonly string[] = [
  '',
  'None',
  'class',
  'dereference',
  'reference',
  'dictionary',
  'function',
  'instance',
  'list',
  'module',
  'persistent',
  'tuple',
  'unpersistable',
  'copy',
  'cache',
  'cached',
  'remote',
  'local',
  'lcache',
  'version',
  'login',
  'password',
  'challenge',
  'logged_in',
  'not_logged_in',
  'cachemessage',
  'message',
  'answer',
  'error',
  'decref',
  'decache',
  'uncache',
];

const MAX_WORD = Math.max(...PB_VOCABULARY.map((w) => w.length));
const indexByWord = new Map<string, number>(PB_VOCABULARY.map((w, i) => [w, i]));
indexByWord.delete('');
const wordBytes = PB_VOCABULARY.map((w) => Buffer.from(w, 'latin1'));

/** Words by length and last byte: a byte string is compared only with the few words that could match. */
const candidates = new Map<number, number[]>();
PB_VOCABULARY.forEach((w, i) => {
  if (!w) return;
  const key = w.length * 256 + w.charCodeAt(w.length - 1);
  candidates.set(key, [...(candidates.get(key) ?? []), i]);
});

/** The vocabulary index of a byte string, or 0 when it is not a word. */
export function vocabIndexOf(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n === 0 || n > MAX_WORD) return 0;
  const list = candidates.get(n * 256 + bytes[n - 1]!);
  if (!list) return 0;
  next: for (const idx of list) {
    const word = wordBytes[idx]!;
    for (let i = 0; i < n; i++) if (word[i] !== bytes[i]) continue next;
    return idx;
  }
  return 0;
}

/** The vocabulary index of a text whose UTF-8 form is being sent, or 0. */
export function vocabIndexOfText(text: string): number {
  return indexByWord.get(text) ?? 0;
}
