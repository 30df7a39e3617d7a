import type { ByteSource } from './source';

/**
 * A forward-only buffered reader over a {@link ByteSource}, for the binary formats (word2vec
 * `.bin`, fastText `.bin`). It reads at explicit positions, so that {@link ByteReader.advance}
 * can jump over large blocks (a fastText matrix) without reading them (a stream source skips
 * them as they arrive).
 */
export class ByteReader {
  private buf = new Uint8Array(1 << 20);
  private view = new DataView(this.buf.buffer);
  private start = 0;
  private end = 0;
  /** Source offset of buf[0]. */
  private base = 0;
  private readonly decoder = new TextDecoder('utf-8');
  eof = false;

  constructor(private readonly src: ByteSource) {}

  get available(): number {
    return this.end - this.start;
  }

  /** Source offset of the next unread byte. */
  get offset(): number {
    return this.base + this.start;
  }

  byte(i: number): number {
    return this.buf[this.start + i];
  }

  /**
   * Makes at least `n` bytes available unless the data ends first; returns the bytes available.
   * Callers bound `n` (a dimension checked against a cap), never a count read from a file.
   */
  async fill(n: number): Promise<number> {
    while (this.available < n && !this.eof) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.base += this.start;
        this.end -= this.start;
        this.start = 0;
      }
      if (this.buf.length - this.end < Math.max(n - this.available, 1 << 16)) {
        const bigger = new Uint8Array(Math.max(this.buf.length * 2, n + (1 << 16)));
        bigger.set(this.buf.subarray(0, this.end));
        this.buf = bigger;
        this.view = new DataView(bigger.buffer);
      }
      const got = await this.src.read(this.base + this.end, this.buf.length - this.end);
      if (got.byteLength === 0) this.eof = true;
      this.buf.set(got, this.end);
      this.end += got.byteLength;
    }
    return this.available;
  }

  /** Index (relative to the next unread byte) of the first byte equal to `b` within `limit` bytes; -1 if absent. */
  indexOf(b: number, limit: number): number {
    return this.buf.subarray(this.start, this.start + Math.min(limit, this.available)).indexOf(b);
  }

  text(len: number): string {
    return this.decoder.decode(this.buf.subarray(this.start, this.start + len));
  }

  floats(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let j = 0; j < count; j++) out[j] = this.view.getFloat32(this.start + 4 * j, true);
    return out;
  }

  int32(): number {
    return this.view.getInt32(this.start, true);
  }

  /** A little-endian int64 as a number (exact up to 2^53; larger magnitudes are rounded). */
  int64(): number {
    return Number(this.view.getBigInt64(this.start, true));
  }

  float64(): number {
    return this.view.getFloat64(this.start, true);
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
