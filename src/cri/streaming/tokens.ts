// Single-use, expiring tokens for the streaming URLs. Exec, Attach and PortForward store the request
// and hand out a URL naming its token; the first connection to that URL takes the request, and a
// token nobody used expires (a kubelet that asked and never connected leaves nothing behind).
import crypto from 'node:crypto';
import { NodeletError } from '../../common/errors';

export type StreamingRequest =
  | {
      kind: 'exec';
      containerId: string;
      cmd: string[];
      tty: boolean;
      stdin: boolean;
      stdout: boolean;
      stderr: boolean;
    }
  | { kind: 'attach'; containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }
  | { kind: 'portforward'; podSandboxId: string; ports: number[] };

export interface TokenCacheOptions {
  ttlMs?: number;
  maxPending?: number;
  now?: () => number;
}

export class TokenCache {
  private readonly pending = new Map<string, { request: StreamingRequest; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;

  constructor(options: TokenCacheOptions = {}) {
    // The kubelet's own streaming server keeps requests for one minute.
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxPending = options.maxPending ?? 1000;
    this.now = options.now ?? Date.now;
  }

  insert(request: StreamingRequest): string {
    this.evictExpired();
    if (this.pending.size >= this.maxPending) {
      throw new NodeletError(
        'ResourceExhausted',
        `Cannot start a ${request.kind} stream: ${this.maxPending} requests are already waiting for their connection`,
      );
    }
    const token = crypto.randomBytes(12).toString('base64url');
    this.pending.set(token, { request, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The request behind a token, once: a second call, or one after expiry, gets undefined. */
  consume(token: string): StreamingRequest | undefined {
    const entry = this.pending.get(token);
    if (!entry) return undefined;
    this.pending.delete(token);
    return entry.expires > this.now() ? entry.request : undefined;
  }

  get size(): number {
    this.evictExpired();
    return this.pending.size;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [token, entry] of this.pending) if (entry.expires <= now) this.pending.delete(token);
  }
}
