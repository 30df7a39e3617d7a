import { ByteReader } from './bytes';
import type { ByteSource } from './source';
import { type ReadWordVectorsOptions, checkDimension } from './types';

/** fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32. */
const MAGIC = 793712314;
/** The model-file versions fastText 0.9 reads. */
const VERSIONS = [11, 12];
/** ProductQuantizer's fixed number of centroids per sub-quantizer. */
const KSUB = 256;
/** The longest dictionary entry accepted (fastText itself has no limit; real tokens are short). */
const MAX_WORD_BYTES = 1 << 16;

/** What {@link inspectFastTextModel} finds in a fastText `.bin` (or `.ftz`) model. */
export interface FastTextModelInfo {
  version: number;
  dimension: number;
  /** Number of words (not labels) in the dictionary. */
  nwords: number;
  nlabels: number;
  /** Whether the input matrix is quantized (`.ftz`). */
  quantized: boolean;
  /** The dictionary's words (not labels), in dictionary order, without the end-of-sentence token `</s>`. */
  words: string[];
}

/**
 * Walks a whole fastText model file and checks its structure against the file size before the
 * native executable ever reads it: the magic number and version, the dimension (against
 * `maxDimension`), the dictionary (counts, every entry terminated inside the file, entry types),
 * the matrices' sizes (rows = words + buckets, columns = dimension), and that the file ends
 * exactly where the last matrix does. The executable trusts all of these; a corrupt value makes it
 * read to the end of the file for ever or allocate without bound (the hang this prevents).
 * Matrices are skipped, not read. Errors name the file and the byte offset. The source must know
 * its size (a file, bytes or a Blob, not a stream); it is closed at the end.
 */
export async function inspectFastTextModel(
  src: ByteSource,
  opts: ReadWordVectorsOptions,
  what: string,
): Promise<FastTextModelInfo> {
  const path = src.name;
  const size = src.size;
  if (size === undefined) {
    await src.close();
    throw new Error(`${what}: ${path}: a fastText model is checked against its size: give its bytes, a Blob or a file, not a stream`);
  }
  const r = new ByteReader(src);
  const fail = (msg: string, at = r.offset): never => {
    throw new Error(`${what}: ${path}: ${msg} (byte ${at}; a corrupt or truncated fastText model?)`);
  };
  const need = async (n: number, field: string): Promise<void> => {
    if ((await r.fill(n)) < n) fail(`the file ends inside ${field}`);
  };
  const int32 = async (field: string): Promise<number> => {
    await need(4, field);
    const v = r.int32();
    r.skip(4);
    return v;
  };
  const int64 = async (field: string): Promise<number> => {
    await need(8, field);
    const v = r.int64();
    r.skip(8);
    return v;
  };
  const bool = async (field: string): Promise<boolean> => {
    await need(1, field);
    const b = r.byte(0);
    r.skip(1);
    if (b > 1) fail(`${field} is ${b}, expected 0 or 1`, r.offset - 1);
    return b === 1;
  };
  /** Skips `bytes` of data, after checking that the file holds them. */
  const block = (bytes: number, field: string): void => {
    const left = size - r.offset;
    if (!Number.isSafeInteger(bytes) || bytes > left) fail(`${field} needs ${bytes} bytes, the file has ${left} left`);
    r.advance(bytes);
  };
  const count = (v: number, field: string, at: number, max = Number.MAX_SAFE_INTEGER): number => {
    if (!Number.isSafeInteger(v) || v < 0 || v > max) fail(`${field} is ${v}`, at);
    return v;
  };
  try {
    const magic = await int32('the magic number');
    if (magic !== MAGIC) fail(`magic number ${magic}, expected ${MAGIC}: not a fastText model`, 0);
    const version = await int32('the version');
    if (!VERSIONS.includes(version)) fail(`model version ${version}, expected ${VERSIONS.join(' or ')}`, 4);
    // Args: dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate (int32), t (double)
    const args: number[] = [];
    for (let i = 0; i < 12; i++) args.push(await int32('the model arguments'));
    await need(8, 'the model arguments');
    r.skip(8);
    const [dimension, , , , , , loss, model, bucket, minn, maxn] = args;
    try {
      checkDimension(dimension, opts, what, path, ' (model arguments, byte 8)');
    } catch (err) {
      throw new Error(`${(err as Error).message} (a corrupt or truncated fastText model?)`);
    }
    if (loss < 1 || loss > 4) fail(`loss ${loss} is not one of fastText's (1..4)`, 32);
    if (model < 1 || model > 3) fail(`model ${model} is not one of fastText's (1 cbow, 2 skipgram, 3 supervised)`, 36);
    count(bucket, 'the bucket count', 40);
    count(minn, 'minn', 44);
    count(maxn, 'maxn', 48);
    // Dictionary: size nwords nlabels (int32), ntokens pruneidx_size (int64), entries, prune index
    const dictAt = r.offset;
    const entries = count(await int32('the dictionary'), 'the dictionary size', dictAt);
    const nwords = count(await int32('the dictionary'), 'the number of words', dictAt + 4);
    const nlabels = count(await int32('the dictionary'), 'the number of labels', dictAt + 8);
    if (nwords + nlabels !== entries) fail(`the dictionary has ${entries} entries but ${nwords} words and ${nlabels} labels`, dictAt);
    await int64('the dictionary');
    const pruneAt = r.offset;
    const pruneidx = await int64('the dictionary');
    if (!Number.isSafeInteger(pruneidx) || pruneidx < -1) fail(`the prune index size is ${pruneidx}`, pruneAt);
    // every entry is at least one byte of word, its NUL, an int64 count and a type byte
    if (entries * 11 > size - r.offset) {
      fail(`the dictionary declares ${entries} entries, more than the ${size - r.offset} bytes left can hold`, dictAt);
    }
    const words: string[] = [];
    let seenWords = 0;
    for (let i = 0; i < entries; i++) {
      const at = r.offset;
      await r.fill(MAX_WORD_BYTES + 10);
      const nul = r.indexOf(0, MAX_WORD_BYTES + 1);
      if (nul < 0) {
        fail(
          r.eof && r.available <= MAX_WORD_BYTES
            ? `the file ends inside dictionary entry ${i}`
            : `dictionary entry ${i} is longer than ${MAX_WORD_BYTES} bytes`,
          at,
        );
      }
      const word = r.text(nul);
      r.skip(nul + 1);
      await need(9, `dictionary entry ${i}`);
      const type = r.byte(8);
      r.skip(9);
      if (type > 1) fail(`dictionary entry ${i} has type ${type}, expected 0 (word) or 1 (label)`, r.offset - 1);
      if (type === 0) {
        seenWords++;
        if (word !== '</s>') words.push(word);
      }
    }
    if (seenWords !== nwords) fail(`the dictionary declares ${nwords} words but its entries hold ${seenWords}`, dictAt);
    if (pruneidx > 0) block(pruneidx * 8, 'the prune index');
    const quantized = await bool('the quantization flag');
    const matrix = async (which: string, quant: boolean, rows: number | undefined): Promise<void> => {
      const at = r.offset;
      if (quant) {
        const qnorm = await bool(`the ${which} matrix`);
        const m = count(await int64(`the ${which} matrix`), `the ${which} matrix row count`, at + 1);
        const n = await int64(`the ${which} matrix`);
        if (n !== dimension) fail(`the ${which} matrix has ${n} columns, the model's dimension is ${dimension}`, at + 9);
        block(count(await int32(`the ${which} matrix`), 'the code size', at + 17), `the ${which} matrix codes`);
        await quantizer(which);
        if (qnorm) {
          block(m, `the ${which} matrix norm codes`);
          await quantizer(`${which} norm`);
        }
        return;
      }
      const m = count(await int64(`the ${which} matrix`), `the ${which} matrix row count`, at);
      const n = await int64(`the ${which} matrix`);
      if (n !== dimension) fail(`the ${which} matrix has ${n} columns, the model's dimension is ${dimension}`, at + 8);
      if (rows !== undefined && m !== rows) {
        fail(`the ${which} matrix has ${m} rows, expected ${rows} (${nwords} words + ${bucket} buckets)`, at);
      }
      block(m * n * 4, `the ${which} matrix (${m} × ${n} float32)`);
    };
    const quantizer = async (which: string): Promise<void> => {
      const at = r.offset;
      const d = count(await int32(`the ${which} quantizer`), `the ${which} quantizer dimension`, at, 1 << 30);
      for (let i = 0; i < 3; i++) await int32(`the ${which} quantizer`);
      block(d * KSUB * 4, `the ${which} quantizer centroids`);
    };
    await matrix('input', quantized, quantized ? undefined : nwords + bucket);
    const qout = await bool('the output quantization flag');
    await matrix('output', quantized && qout, undefined);
    if (r.offset !== size) {
      fail(`${size - r.offset} bytes of unexpected data after the output matrix`);
    }
    return { version, dimension, nwords, nlabels, quantized, words };
  } finally {
    await src.close();
  }
}
