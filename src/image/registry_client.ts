// A client of the OCI distribution API (Docker registry v2) on Node's global fetch: manifests and
// blobs of one repository on one endpoint, with bearer/basic auth from the WWW-Authenticate
// challenge, retries with backoff on network errors and 5xx, a timeout for the answer's headers
// and a progress timeout while a body streams, ranged blob requests that resume a download, and
// cancellation by the caller's signal.
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  failedPrecondition,
  messageOf,
  NodeletError,
  notFound,
  resourceExhausted,
  unavailable,
} from '../common/errors';
import { MAX_MANIFEST_BYTES, readBounded } from './limits';
import { basicHeader, Credentials, fetchBearerToken, parseChallenge } from './registry_auth';
import type { Endpoint, RegistryHostsConfig } from './registry_hosts';

export interface RegistryTimeouts {
  /** How long to wait for an answer's headers (and a manifest's whole body). */
  requestTimeoutMs: number;
  /** How long a blob download may go without a byte before it fails; requestTimeoutMs when absent. */
  progressTimeoutMs?: number;
  /** Extra attempts after a network error or a 5xx/429 answer. */
  retries: number;
}

/** The first byte of a 206 answer's `Content-Range: bytes <first>-<last>/<size>`; NaN when unreadable. */
function rangeStart(header: string | null): number {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : NaN;
}

/** The scheme that worked for a host that allows both, so the HTTPS probe happens once. */
const schemeCache = new Map<string, 'https' | 'http'>();

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

export class RepositoryClient {
  private authorization?: string;

  private readonly timeouts: RegistryTimeouts;
  private readonly creds?: Credentials;
  /** Which hosts may be reached over plain HTTP: token realms obey the same rule. */
  private readonly hosts: RegistryHostsConfig;

  constructor(
    readonly endpoint: Endpoint,
    /** Repository path on this endpoint: `library/busybox`. */
    readonly repo: string,
    options: { timeouts: RegistryTimeouts; hosts: RegistryHostsConfig; creds?: Credentials },
  ) {
    this.timeouts = options.timeouts;
    this.hosts = options.hosts;
    this.creds = options.creds;
    if (this.creds?.registryToken) this.authorization = `Bearer ${this.creds.registryToken}`;
  }

  describe(): string {
    return `${this.endpoint.host}/${this.repo}`;
  }

  /**
   * GET /v2/<repo>/manifests/<reference>; resolves with the raw bytes and what the headers said.
   * A manifest or index over 4 MiB is refused as containerd does, from its Content-Length or as
   * soon as the bytes pass it.
   */
  async manifest(reference: string, accept: string, signal: AbortSignal) {
    const { res, ctl, done } = await this.get(`manifests/${reference}`, { accept }, signal);
    // A manifest is small: its whole body gets the same time as the headers did.
    const timer = setTimeout(() => ctl.abort(), this.timeouts.requestTimeoutMs);
    const what = `manifest ${reference} from ${this.describe()}`;
    try {
      const bytes = await readBounded(res, MAX_MANIFEST_BYTES, what).catch((err: unknown) => {
        if (signal.aborted) throw signal.reason;
        if (err instanceof NodeletError) throw err;
        throw unavailable(`Cannot fetch ${what}: ${messageOf(err)}`);
      });
      return {
        bytes,
        contentType: res.headers.get('content-type') ?? undefined,
        digest: res.headers.get('docker-content-digest') ?? undefined,
      };
    } finally {
      clearTimeout(timer);
      ctl.abort();
      done();
    }
  }

  /** GET /v2/<repo>/blobs/<digest> as a stream that fails if the registry goes quiet. */
  async blob(digest: string, signal: AbortSignal, size?: number): Promise<Readable> {
    return (await this.blobFrom(digest, signal, { size, offset: 0 })).stream;
  }

  /**
   * The blob from byte `offset` on (`Range: bytes=<offset>-`). A registry that answers 206 sends
   * the rest; one that answers 200 sends the whole blob, and `offset` in the answer says so (0).
   * The stream fails with an error that names the blob and says what happened: the connection
   * closed after N of M bytes, or no data came for the progress timeout.
   */
  async blobFrom(
    digest: string,
    signal: AbortSignal,
    want: { size?: number; offset: number },
  ): Promise<{ stream: Readable; offset: number }> {
    const { size } = want;
    const headers: Record<string, string> = want.offset > 0 ? { range: `bytes=${want.offset}-` } : {};
    const { res, ctl, done } = await this.get(`blobs/${digest}`, headers, signal);
    const what = `blob ${digest} from ${this.describe()}`;
    const offset = res.status === 206 ? rangeStart(res.headers.get('content-range')) : 0;
    if (offset !== 0 && offset !== want.offset) {
      ctl.abort();
      done();
      throw unavailable(
        `Cannot fetch ${what}: asked for bytes from ${want.offset} on, the registry sent them from ${offset}`,
      );
    }
    const length = Number(res.headers.get('content-length') ?? NaN);
    if (size !== undefined && offset + length > size) {
      ctl.abort();
      done();
      throw resourceExhausted(
        `Cannot fetch ${what}: its Content-Length of ${offset + length} bytes is larger than the ${size} bytes announced`,
      );
    }
    if (!res.body) throw unavailable(`Cannot fetch ${what}: the answer has no body`);
    const ms = this.timeouts.progressTimeoutMs ?? this.timeouts.requestTimeoutMs;
    let timer = setTimeout(() => ctl.abort(), ms);
    let received = offset;
    const total = size ?? (Number.isFinite(length) ? offset + length : undefined);
    const watchdog = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        clearTimeout(timer);
        received += chunk.length;
        // Stop reading the moment a blob runs past its announced size.
        if (size !== undefined && received > size) {
          cb(resourceExhausted(`Cannot fetch ${what}: it is longer than the ${size} bytes announced`));
          return;
        }
        timer = setTimeout(() => ctl.abort(), ms);
        cb(null, chunk);
      },
      flush(cb) {
        clearTimeout(timer);
        done();
        cb();
      },
    });
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    body.on('error', (err) => {
      clearTimeout(timer);
      done();
      const of = total === undefined ? '' : ` of ${total}`;
      const why = signal.aborted
        ? signal.reason
        : ctl.signal.aborted
          ? unavailable(
              `Cannot fetch ${what}: no data for ${ms / 1000} s after ${received}${of} bytes (registry.pullProgressTimeoutSeconds)`,
            )
          : unavailable(
              `Cannot fetch ${what}: the connection closed after ${received}${of} bytes (${messageOf(err)})`,
            );
      watchdog.destroy(why as Error);
    });
    watchdog.on('close', () => {
      clearTimeout(timer);
      if (!watchdog.writableFinished) ctl.abort();
    });
    return { stream: body.pipe(watchdog), offset };
  }

  private async get(suffix: string, headers: Record<string, string>, signal: AbortSignal) {
    const what = `${suffix.split('/')[0].replace(/s$/, '')} ${suffix.split('/')[1]} from ${this.describe()}`;
    let answer = await this.send(suffix, headers, signal, what);
    if (answer.res.status === 401 && (await this.authenticate(answer.res, signal))) {
      answer.done();
      answer = await this.send(suffix, headers, signal, what);
    }
    const { res } = answer;
    if (res.ok) return answer;
    answer.done();
    if (res.status === 404) throw notFound(`Cannot fetch ${what}: not found (HTTP 404)`);
    if (res.status === 401 || res.status === 403) {
      throw failedPrecondition(`Cannot fetch ${what}: the registry refused access (HTTP ${res.status})`);
    }
    throw unavailable(`Cannot fetch ${what}: HTTP ${res.status}`);
  }

  /** Answers a 401 challenge; false when there is nothing more to try. */
  private async authenticate(res: Response, signal: AbortSignal): Promise<boolean> {
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    if (this.authorization?.startsWith('Basic') || !challenge) return false;
    if (challenge.scheme === 'basic') {
      if (!this.creds?.username) return false;
      this.authorization = basicHeader(this.creds);
      return true;
    }
    if (challenge.scheme !== 'bearer') return false;
    const token = await fetchBearerToken(challenge, {
      scope: `repository:${this.repo}:pull`,
      registry: this.endpoint.host,
      hosts: this.hosts,
      creds: this.creds,
      signal,
    });
    this.authorization = `Bearer ${token}`;
    return true;
  }

  /** One logical request: scheme choice, header timeout, retries with backoff. */
  private async send(suffix: string, headers: Record<string, string>, signal: AbortSignal, what: string) {
    const schemes = schemeCache.has(this.endpoint.host)
      ? [schemeCache.get(this.endpoint.host)!]
      : this.endpoint.schemes;
    let lastError: unknown;
    for (const [i, scheme] of schemes.entries()) {
      const probing = i < schemes.length - 1;
      const attempts = probing ? 1 : this.timeouts.retries + 1;
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) await sleep(Math.min(200 * 2 ** (attempt - 1), 5000), signal);
        const ctl = new AbortController();
        const onAbort = () => ctl.abort(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        const done = () => signal.removeEventListener('abort', onAbort);
        const timer = setTimeout(() => ctl.abort(), this.timeouts.requestTimeoutMs);
        try {
          const url = `${scheme}://${this.endpoint.host}/v2/${this.repo}/${suffix}`;
          const auth: Record<string, string> = this.authorization
            ? { authorization: this.authorization }
            : {};
          const res = await fetch(url, {
            headers: { ...headers, ...auth },
            signal: ctl.signal,
            redirect: 'follow',
          });
          clearTimeout(timer);
          if ((res.status >= 500 || res.status === 429) && attempt < attempts - 1) {
            await res.body?.cancel();
            done();
            lastError = unavailable(`Cannot fetch ${what}: HTTP ${res.status}`);
            continue;
          }
          schemeCache.set(this.endpoint.host, scheme);
          return { res, ctl, done };
        } catch (err) {
          clearTimeout(timer);
          done();
          if (signal.aborted)
            throw signal.reason instanceof NodeletError
              ? signal.reason
              : unavailable(`Cannot fetch ${what}: cancelled`);
          const cause = (err as { cause?: unknown }).cause;
          const why = ctl.signal.aborted
            ? `no answer within ${this.timeouts.requestTimeoutMs} ms`
            : messageOf(cause ?? err);
          lastError = unavailable(`Cannot fetch ${what} over ${scheme}: ${why}`, err);
        }
      }
    }
    throw lastError;
  }
}
