// Content digests ("sha256:<hex>"): parsing, hashing, and a pass-through stream that checks a
// blob's digest and size as it flows, so nothing unverified is ever renamed into the store.
import crypto from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { invalidArgument, resourceExhausted } from '../common/errors';

const DIGEST = /^(sha256|sha512):([a-f0-9]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

export function parseDigest(digest: string): ParsedDigest {
  const m = DIGEST.exec(digest);
  if (!m || m[2].length !== HEX_LENGTH[m[1]]) {
    throw invalidArgument(`Cannot use digest '${digest}': it is not a sha256 or sha512 digest`);
  }
  return { algorithm: m[1] as ParsedDigest['algorithm'], hex: m[2] };
}

export function sha256Of(data: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}

export function digestOf(data: Buffer, algorithm: ParsedDigest['algorithm'] = 'sha256'): string {
  return `${algorithm}:${crypto.createHash(algorithm).update(data).digest('hex')}`;
}

/** A digest or size mismatch: the registry (or archive) served the wrong bytes. */
export class DigestMismatchError extends Error {}

/**
 * Hashes what passes through. With `expected`, fails the stream when the bytes run past the
 * expected size, and at the end when the size or digest differ.
 */
export class DigestStream extends Transform {
  private readonly hash: crypto.Hash;
  bytes = 0;

  constructor(
    private readonly what: string,
    private readonly expected?: { digest: string; size?: number },
    algorithm: ParsedDigest['algorithm'] = expected ? parseDigest(expected.digest).algorithm : 'sha256',
  ) {
    super();
    this.hash = crypto.createHash(algorithm);
    this.algorithm = algorithm;
  }

  private readonly algorithm: string;
  private result?: string;

  /** Hashes bytes that are already stored (a resumed download's first part) without passing them on. */
  prime(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    const size = this.expected?.size;
    if (size !== undefined && size >= 0 && this.bytes > size) {
      // Refused as soon as it happens: a blob without end must not be read to its end.
      done(resourceExhausted(`Cannot verify ${this.what}: it is longer than the ${size} bytes announced`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.result = `${this.algorithm}:${this.hash.digest('hex')}`;
    const size = this.expected?.size;
    if (size !== undefined && size >= 0 && this.bytes !== size) {
      done(
        new DigestMismatchError(
          `Cannot verify ${this.what}: got ${this.bytes} of the ${size} bytes announced (truncated)`,
        ),
      );
      return;
    }
    if (this.expected && this.result !== this.expected.digest) {
      done(
        new DigestMismatchError(
          `Cannot verify ${this.what}: its digest is ${this.result}, expected ${this.expected.digest}`,
        ),
      );
      return;
    }
    done();
  }

  /** The digest of everything that passed, once the stream has ended. */
  get digest(): string {
    if (!this.result) throw new Error(`Cannot read the digest of ${this.what}: the stream has not ended`);
    return this.result;
  }
}
