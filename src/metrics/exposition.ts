// A growing byte buffer for the Prometheus text format. Writing bytes straight into one buffer
// avoids what made the string version slow (bench/metrics/scrape.ts): tens of thousands of small
// strings, each flattened by the final join, and the garbage they leave for the collector.

export class ExpositionBuffer {
  private buf: Buffer;
  private length = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 4096);
    while (size < this.length + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Appends bytes prepared once (metric names, a container's label set). */
  bytes(chunk: Buffer): void {
    this.reserve(chunk.length);
    this.buf.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** Appends a string as UTF-8. */
  text(s: string): void {
    this.reserve(s.length * 3);
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  /** Appends a sample value as the format spells it. */
  value(v: number): void {
    this.text(Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf');
  }

  /** The bytes written so far (a view, valid until the next write). */
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
