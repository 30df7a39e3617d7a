/**
 * Where a reader's bytes come from: a buffer, a Blob (a browser `File`), a stream, or a file
 * (`fileSource` in `@sign/embeddings/node`). The readers ask for byte ranges in increasing order
 * and never for more than they can bound (a line, a record, a header), so a multi-gigabyte file is
 * never held in memory.
 */
export interface ByteSource {
  /** The name errors use: a file path, a URL, an upload's name. */
  readonly name: string;
  /**
   * The total size in bytes when it is known (buffers, Blobs, files), `undefined` for streams.
   * Readers check what a header declares against it before reading on; without it those checks
   * happen as the data arrives (a stream that ends early is reported as truncated).
   */
  readonly size: number | undefined;
  /**
   * Up to `length` bytes starting at byte `position`; fewer only where the data ends. Readers
   * call it with positions that never go back (forward-only sources rely on it).
   */
  read(position: number, length: number): Promise<Uint8Array>;
  /** Releases the source (closes a file, cancels a stream). Idempotent. */
  close(): Promise<void>;
}

/**
 * What the `parse*` readers accept: the file's bytes (`Uint8Array`, `ArrayBuffer`), a `Blob` or
 * `File` (read range by range, never whole), a `ReadableStream` or any async iterable of byte
 * chunks (a `fetch` body, a Node stream), the file's text as a `string`, or a {@link ByteSource}.
 */
export type WordVectorInput =
  | string
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | ByteSource;

function isByteSource(x: unknown): x is ByteSource {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as ByteSource).read === 'function' &&
    typeof (x as ByteSource).close === 'function' &&
    'size' in x &&
    typeof (x as ByteSource).name === 'string'
  );
}

/** A source over bytes in memory (no copy). */
export function bytesSource(bytes: Uint8Array | ArrayBuffer, name: string): ByteSource {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return {
    name,
    size: b.byteLength,
    async read(position, length) {
      return b.subarray(Math.min(position, b.byteLength), Math.min(position + length, b.byteLength));
    },
    async close() {},
  };
}

/** A source over a Blob or File: each read slices the range it needs. */
export function blobSource(blob: Blob, name: string): ByteSource {
  return {
    name,
    size: blob.size,
    async read(position, length) {
      return new Uint8Array(await blob.slice(position, position + length).arrayBuffer());
    },
    async close() {},
  };
}

/**
 * A forward-only source over a stream of byte chunks. A read past the bytes already consumed
 * skips (discards) the bytes in between; reading backwards is an error.
 */
export function streamSource(stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, name: string): ByteSource {
  let iterator: AsyncIterator<Uint8Array> | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let pending: Uint8Array = new Uint8Array(0);
  /** Stream offset of pending[0]. */
  let offset = 0;
  let done = false;
  const next = async (): Promise<Uint8Array | undefined> => {
    if (done) return undefined;
    let r: { done?: boolean; value?: Uint8Array };
    if (typeof (stream as ReadableStream<Uint8Array>).getReader === 'function') {
      reader ??= (stream as ReadableStream<Uint8Array>).getReader();
      r = await reader.read();
    } else {
      iterator ??= (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      r = await iterator.next();
    }
    if (r.done) {
      done = true;
      return undefined;
    }
    const v = r.value;
    if (!(v instanceof Uint8Array)) throw new Error(`${name}: the stream gave a ${typeof v} chunk, expected bytes (Uint8Array)`);
    return v;
  };
  return {
    name,
    size: undefined,
    async read(position, length) {
      if (position < offset) throw new Error(`${name}: a stream cannot be read backwards (byte ${position} after ${offset})`);
      // drop what lies before `position`
      while (offset + pending.byteLength <= position) {
        offset += pending.byteLength;
        pending = new Uint8Array(0);
        const c = await next();
        if (!c) return new Uint8Array(0);
        pending = c;
      }
      pending = pending.subarray(position - offset);
      offset = position;
      while (pending.byteLength < length) {
        const c = await next();
        if (!c) break;
        const joined = new Uint8Array(pending.byteLength + c.byteLength);
        joined.set(pending);
        joined.set(c, pending.byteLength);
        pending = joined;
      }
      return pending.subarray(0, Math.min(length, pending.byteLength));
    },
    async close() {
      done = true;
      pending = new Uint8Array(0);
      try {
        if (reader) await reader.cancel();
        else if (iterator?.return) await iterator.return();
      } catch {
        /* already closed or failed: nothing to release */
      }
    },
  };
}

/**
 * The {@link ByteSource} for any {@link WordVectorInput}; `name` is used in error messages (a
 * ByteSource keeps its own). A string is the file's text (encoded as UTF-8), never a path: read
 * files with `@sign/embeddings/node`.
 *
 * @example
 * const src = toByteSource(await (await fetch(url)).blob(), url);
 */
export function toByteSource(input: WordVectorInput, name: string): ByteSource {
  if (isByteSource(input)) return input;
  if (typeof input === 'string') return bytesSource(new TextEncoder().encode(input), name);
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) return bytesSource(input, name);
  if (typeof Blob !== 'undefined' && input instanceof Blob) return blobSource(input, name);
  if (
    input !== null &&
    typeof input === 'object' &&
    (typeof (input as ReadableStream<Uint8Array>).getReader === 'function' || Symbol.asyncIterator in input)
  ) {
    return streamSource(input as ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, name);
  }
  throw new Error(
    `${name}: cannot read a ${input === null ? 'null' : typeof input}: expected the file's text, bytes (Uint8Array, ArrayBuffer), a Blob, a stream of bytes, or a ByteSource`,
  );
}
