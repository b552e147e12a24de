// The fixed limits on what a registry may send, beside the configurable ones of the `registry`
// section (maxLayerBytes, maxUncompressedLayerBytes, freeSpaceReserveBytes), and the one way to
// read an HTTP body that must stay small.
import { resourceExhausted } from '../common/errors';

/** containerd's limit for manifests, indexes and configs (`MaxManifestSize`, 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 << 20;

/**
 * The largest zstd window a layer may ask for: zstd's own decoder default (windowLog 27, what
 * `zstd --long=27` writes). fzstd allocates a frame's whole window as soon as it reads the header.
 */
export const MAX_ZSTD_WINDOW_BYTES = 1 << 27;

/** Token service answers: a JSON object with a token, never more than this. */
export const MAX_TOKEN_ANSWER_BYTES = 1 << 20;

/**
 * Reads a fetch answer's body whole, refusing it from its Content-Length when that says too much,
 * and otherwise as soon as the bytes run past `max`, so a body without end is never buffered.
 */
export async function readBounded(res: Response, max: number, what: string): Promise<Buffer> {
  const length = Number(res.headers.get('content-length') ?? NaN);
  if (length > max) {
    await res.body?.cancel().catch(() => undefined);
    throw resourceExhausted(
      `Cannot read ${what}: its Content-Length of ${length} bytes is larger than the ${max} bytes allowed`,
    );
  }
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > max) {
      await reader.cancel().catch(() => undefined);
      throw resourceExhausted(`Cannot read ${what}: it is larger than the ${max} bytes allowed`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
