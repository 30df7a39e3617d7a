import type { FileHandle } from 'node:fs/promises';

/**
 * A forward-only buffered reader over a file handle, for the binary formats (word2vec `.bin`,
 * fastText `.bin`). It reads at explicit file positions, so that {@link ByteReader.advance}
 * can jump over large blocks (a fastText matrix) without reading them.
 */
export class ByteReader {
  private buf = Buffer.alloc(1 << 20);
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  eof = false;

  constructor(private readonly fh: FileHandle) {}

  get available(): number {
    return this.end - this.start;
  }

  /** File offset of the next unread byte. */
  get offset(): number {
    return this.base + this.start;
  }

  byte(i: number): number {
    return this.buf[this.start + i];
  }

  /**
   * Makes at least `n` bytes available unless the file ends first; returns the bytes available.
   * Callers bound `n` (a dimension checked against a cap), never a count read from a file.
   */
  async fill(n: number): Promise<number> {
    while (this.available < n && !this.eof) {
      if (this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end);
        this.base += this.start;
        this.end -= this.start;
        this.start = 0;
      }
      if (this.buf.length - this.end < Math.max(n - this.available, 1 << 16)) {
        const bigger = Buffer.alloc(Math.max(this.buf.length * 2, n + (1 << 16)));
        this.buf.copy(bigger, 0, 0, this.end);
        this.buf = bigger;
      }
      const { bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      if (bytesRead === 0) this.eof = true;
      this.end += bytesRead;
    }
    return this.available;
  }

  /** Index (relative to the next unread byte) of the first byte equal to `b` within `limit` bytes; -1 if absent. */
  indexOf(b: number, limit: number): number {
    return this.buf.subarray(this.start, this.start + Math.min(limit, this.available)).indexOf(b);
  }

  text(len: number): string {
    return this.buf.toString('utf8', this.start, this.start + len);
  }

  floats(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let j = 0; j < count; j++) out[j] = this.buf.readFloatLE(this.start + 4 * j);
    return out;
  }

  int32(): number {
    return this.buf.readInt32LE(this.start);
  }

  /** A little-endian int64 as a number (exact up to 2^53; larger magnitudes are rounded). */
  int64(): number {
    return Number(this.buf.readBigInt64LE(this.start));
  }

  float64(): number {
    return this.buf.readDoubleLE(this.start);
  }

  /** Consumes `n` buffered bytes. */
  skip(n: number): void {
    this.start += n;
  }

  /** Moves `n` bytes forward, also past the buffered bytes (without reading what it skips). */
  advance(n: number): void {
    if (n <= this.available) {
      this.start += n;
      return;
    }
    this.base = this.offset + n;
    this.start = 0;
    this.end = 0;
    this.eof = false;
  }
}
