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

/** The vocabulary index of a byte string, or 0 when it is not a word. */
export function vocabIndexOf(bytes: Uint8Array): number {
  if (bytes.length === 0 || bytes.length > MAX_WORD) return 0;
  // Every word starts with a lower-case letter or 'N'; reject most data cheaply.
  const c = bytes[0]!;
  if (c !== 0x4e && (c < 0x61 || c > 0x7a)) return 0;
  return indexByWord.get(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')) ?? 0;
}

/** The byte string a VOCAB index stands for (a fresh copy), or undefined if out of range. */
export function vocabWord(index: number): Buffer | undefined {
  if (index < 1 || index >= wordBytes.length) return undefined;
  return Buffer.from(wordBytes[index]!);
}
