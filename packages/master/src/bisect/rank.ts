// Ranks the changes of a blamelist by how much the failing step's output talks about them:
// a change whose touched files the output names (by path, or by file name when the tool
// printed it from another directory) is a suspect, more named files rank it higher, and
// among equals the newer change comes first.
import type { Suspect } from '../data/bisections.js';

export interface RankableChange {
  readonly id: number;
  readonly revision: string | null;
  readonly author: string;
  readonly files: readonly string[];
}

/** Suspects, best first; changes the output does not mention are left out. */
export function rankSuspects(changes: readonly RankableChange[], output: string): Suspect[] {
  const suspects: Suspect[] = [];
  for (const change of changes) {
    const files = change.files.filter((f) => mentions(output, f));
    if (files.length > 0)
      suspects.push({
        changeid: change.id,
        revision: change.revision,
        author: change.author,
        score: files.length,
        files,
      });
  }
  return suspects.sort((a, b) => b.score - a.score || b.changeid - a.changeid);
}

/** Whether the output names the file: its path, or its file name as a whole word. */
export function mentions(output: string, path: string): boolean {
  if (path === '') return false;
  const name = path.slice(path.lastIndexOf('/') + 1);
  return containsWord(output, path) || (name !== path && name.length > 0 && containsWord(output, name));
}

// A match inside a longer name ("xmain.c" for "main.c", "main.cpp" for "main.c") does not count.
function containsWord(text: string, word: string): boolean {
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
    const before = at === 0 ? '' : text[at - 1]!;
    const after = text[at + word.length] ?? '';
    if (!NAME_CHAR.test(before) && !NAME_CHAR.test(after)) return true;
  }
  return false;
}

const NAME_CHAR = /[A-Za-z0-9_\-.]/;
