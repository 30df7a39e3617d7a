import type { WordVectorFormat } from './types';

/** fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32, the first 4 bytes (little-endian) of a `.bin` model. */
const FASTTEXT_MAGIC = 793712314;

/**
 * Guesses the format of a word-vector file from its first bytes (a few KiB is plenty):
 * `'fasttext-bin'` (fastText's magic number), `'word2vec-bin'` (a `<count> <dimension>` header
 * followed by binary data), `'word2vec-text'` (such a header followed by text: also the layout of
 * fastText `.vec`), or `'glove'` (text without a header). `undefined` when the bytes are neither
 * text nor one of these (or empty). Useful when a user picks a file; the readers check the format
 * themselves (the GloVe reader refuses a file that starts with a header).
 *
 * @example
 * detectWordVectorFormat(new TextEncoder().encode('2 3\ncat 1 0 0\n')); // 'word2vec-text'
 * detectWordVectorFormat(new TextEncoder().encode('cat 1 0 0\n'));      // 'glove'
 */
export function detectWordVectorFormat(head: Uint8Array): WordVectorFormat | undefined {
  if (head.byteLength >= 4 && new DataView(head.buffer, head.byteOffset, 4).getInt32(0, true) === FASTTEXT_MAGIC) {
    return 'fasttext-bin';
  }
  const nl = head.indexOf(0x0a);
  const firstLine = new TextDecoder('utf-8').decode(head.subarray(0, nl < 0 ? head.byteLength : nl)).replace(/^\uFEFF/, '');
  const header = /^\s*\d+[ \t]+\d+\s*$/.test(firstLine);
  // the text after the first line, up to the last complete line (a cut multi-byte character is not binary)
  const rest = nl < 0 ? new Uint8Array(0) : head.subarray(nl + 1);
  const lastNl = rest.lastIndexOf(0x0a);
  const body = lastNl < 0 ? rest : rest.subarray(0, lastNl);
  if (header) return isText(body) ? 'word2vec-text' : 'word2vec-bin';
  if (!isText(head.subarray(0, nl < 0 ? head.byteLength : nl)) || firstLine.trim().length === 0) return undefined;
  return /\S+([ \t]+\S+)+/.test(firstLine) ? 'glove' : undefined;
}

/** Valid UTF-8 without control characters other than tab, CR and LF. */
function isText(bytes: Uint8Array): boolean {
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s);
}
