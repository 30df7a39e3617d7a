/**
 * Class names of segmentation datasets that are not words, mapped to the words that describe
 * them (PASCAL VOC / Context spell these as one token). Used by default by
 * {@link normalizeClassName} and {@link buildClassEmbeddings}; pass your own `aliases` (spread
 * this object into it to keep these) to change them.
 */
export const DEFAULT_CLASS_ALIASES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  tvmonitor: ['tv', 'monitor'],
  pottedplant: ['potted', 'plant'],
  diningtable: ['dining', 'table'],
});

/** Options of {@link normalizeClassName}. */
export interface NormalizeClassNameOptions {
  /**
   * Whole class names mapped to the words to use instead, e.g. `{ tvmonitor: ['tv', 'monitor'] }`.
   * Looked up by the exact name first, then by its trimmed lower-case form. The words are
   * lower-cased and used as given. Default {@link DEFAULT_CLASS_ALIASES}.
   */
  aliases?: Readonly<Record<string, readonly string[]>>;
}

const SEPARATORS = /[\s_]+/u;
// Characters that are neither letters, digits, apostrophes nor hyphens are dropped.
const DROP = /[^\p{L}\p{N}'-]+/gu;

/**
 * Turns a class name into the list of words whose vectors are averaged to embed it.
 *
 * The rule, in order:
 * 1. An alias (exact name, else trimmed lower-case name) replaces the name by its word list.
 * 2. The name is lower-cased (Unicode) and split on `/` into alternatives; every alternative
 *    contributes its words (`t-shirt/top` → words of `t-shirt` and of `top`).
 * 3. Each alternative is split into words on white space and `_`.
 * 4. Characters other than letters, digits, `'` and `-` are removed (`mr.` → `mr`).
 * 5. Hyphens split words too (`wall-concrete` → `wall`, `concrete`), except where a side of
 *    the hyphen is a single letter or digit: `t-shirt`, `x-ray`, `e-mail` stay one word,
 *    since their parts mean nothing alone. Leading and trailing hyphens are dropped.
 * 6. Empty words are dropped, and repeated words kept once (first occurrence).
 * A name that leaves no word is an error naming it.
 *
 * @example
 * normalizeClassName('potted_plant')   // ['potted', 'plant']
 * normalizeClassName('wall-concrete')  // ['wall', 'concrete']
 * normalizeClassName('T-shirt/top')    // ['t-shirt', 'top']
 * normalizeClassName('Ankle boot')     // ['ankle', 'boot']
 * normalizeClassName('tvmonitor')      // ['tv', 'monitor'] (default alias)
 */
export function normalizeClassName(name: string, opts: NormalizeClassNameOptions = {}): string[] {
  if (typeof name !== 'string') throw new Error(`normalizeClassName: expected a string, got ${typeof name}`);
  const aliases = opts.aliases ?? DEFAULT_CLASS_ALIASES;
  const key = name.trim().toLowerCase();
  const alias = Object.prototype.hasOwnProperty.call(aliases, name)
    ? aliases[name]
    : Object.prototype.hasOwnProperty.call(aliases, key)
      ? aliases[key]
      : undefined;
  const words: string[] = [];
  if (alias) {
    for (const w of alias) {
      const t = String(w).trim().toLowerCase();
      if (t) words.push(t);
    }
  } else {
    for (const alternative of key.split('/')) {
      for (const raw of alternative.split(SEPARATORS)) {
        const cleaned = raw.replace(DROP, '');
        for (const w of splitHyphens(cleaned)) words.push(w);
      }
    }
  }
  const unique = [...new Set(words.filter((w) => w.length > 0))];
  if (unique.length === 0) {
    throw new Error(`normalizeClassName: class name '${name}' contains no word`);
  }
  return unique;
}

function splitHyphens(word: string): string[] {
  const parts = word.split('-').filter((p) => p.length > 0);
  if (parts.length <= 1) return parts;
  // Join pieces across a hyphen when either side is a single character.
  const out: string[] = [parts[0]];
  for (let i = 1; i < parts.length; i++) {
    const prev = out[out.length - 1];
    if (prev.length === 1 || parts[i].length === 1) out[out.length - 1] = `${prev}-${parts[i]}`;
    else out.push(parts[i]);
  }
  return out;
}
