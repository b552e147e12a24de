// A small registry for hostile tests: serves images built here from crafted tar entries, and can
// lie about them (wrong bytes, short bodies, stalls), demand a bearer token, and count requests.
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';

export interface EntrySpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  data?: Buffer | string;
  mode?: number;
}

export const sha256 = (b: Buffer | string) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

export async function layerTar(entries: EntrySpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const data = e.data === undefined ? undefined : Buffer.from(e.data);
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        {
          name: e.name,
          type: e.type ?? 'file',
          linkname: e.linkname,
          mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
          size: data?.length ?? 0,
        },
        data ?? Buffer.alloc(0),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface BuiltImage {
  manifest: Buffer;
  digest: string;
  configDigest: string;
  layerDigests: string[];
  blobs: Map<string, Buffer>;
}

export interface BuildOptions {
  compress?: boolean;
  user?: string;
  /** Layer sizes the manifest announces instead of the true ones (a lying manifest). */
  declaredSizes?: Array<number | undefined>;
  /** Diff ids for the config instead of the tars' own digests (for blobs that are not tars). */
  diffIds?: string[];
  /** The size the manifest announces for the config. */
  configSize?: number;
  /** Padding added to the manifest, to make it as large as wanted. */
  manifestPadding?: number;
  /** Fields put into the config's `config` as given (a malformed config). */
  configFields?: Record<string, unknown>;
}

/** An image whose layers are the given tars, gzipped (or as given when compress is false). */
export function buildImage(tars: Buffer[], options: BuildOptions = {}): BuiltImage {
  const blobs = new Map<string, Buffer>();
  const layers = tars.map((t, i) => {
    const bytes = options.compress === false ? t : zlib.gzipSync(t);
    const digest = sha256(bytes);
    blobs.set(digest, bytes);
    const size = options.declaredSizes?.[i] ?? bytes.length;
    return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size };
  });
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'], User: options.user ?? '', ...options.configFields },
      rootfs: { type: 'layers', diff_ids: options.diffIds ?? tars.map((t) => sha256(t)) },
    }),
  );
  const configDigest = sha256(config);
  blobs.set(configDigest, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: options.configSize ?? config.length,
      },
      layers,
      ...(options.manifestPadding ? { annotations: { pad: 'x'.repeat(options.manifestPadding) } } : {}),
    }),
  );
  return {
    manifest,
    digest: sha256(manifest),
    configDigest,
    layerDigests: layers.map((l) => l.digest),
    blobs,
  };
}

export type BlobBehaviour =
  | 'normal'
  | { replaceWith: Buffer }
  | { truncateTo: number }
  | { stallAfter: number }
  | { dropAfter: number; times: number }
  /** Answers with a redirect to this URL (blob storage on another host). */
  | { redirectTo: string }
  /** Sends the blob without a Content-Length, in pieces of `chunk` bytes `everyMs` apart. */
  | { drip: { chunk: number; everyMs: number } };

export class HostileRegistry {
  readonly manifests = new Map<string, { body: Buffer; mediaType: string; chunked?: boolean }>();
  readonly blobs = new Map<string, Buffer>();
  readonly behaviour = new Map<string, BlobBehaviour>();
  blobRequests = 0;
  /** When set, every /v2/ request needs `Bearer <token>`, issued for these basic credentials. */
  requireAuth?: { user: string; password: string; token: string };
  /** The realm the Bearer challenge names, instead of this registry's own /token. */
  realm?: string;
  /** Bytes of blob bodies written so far. */
  blobBytesSent = 0;
  private server?: http.Server;
  private readonly sockets = new Set<net.Socket>();
  host = '';

  /** Publishes an image as <repo>:<tag> (and by digest). */
  add(repo: string, tag: string, image: BuiltImage): void {
    const entry = { body: image.manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' };
    this.manifests.set(`${repo}:${tag}`, entry);
    this.manifests.set(`${repo}:${image.digest}`, entry);
    for (const [d, b] of image.blobs) this.blobs.set(d, b);
  }

  addIndex(repo: string, tag: string, index: Buffer): void {
    const entry = { body: index, mediaType: 'application/vnd.oci.image.index.v1+json' };
    this.manifests.set(`${repo}:${tag}`, entry);
    this.manifests.set(`${repo}:${sha256(index)}`, entry);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => (this.sockets.add(s), s.on('close', () => this.sockets.delete(s))));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    if (url.pathname === '/token') {
      const want = `Basic ${Buffer.from(`${this.requireAuth?.user}:${this.requireAuth?.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) return void res.writeHead(401).end();
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token: this.requireAuth?.token }));
    }
    if (this.requireAuth && req.headers.authorization !== `Bearer ${this.requireAuth.token}`) {
      const realm = this.realm ?? `http://${this.host}/token`;
      const challenge = `Bearer realm="${realm}",service="hostile",scope="repository:x:pull"`;
      return void res.writeHead(401, { 'www-authenticate': challenge }).end();
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m) return void res.writeHead(url.pathname === '/v2/' ? 200 : 404).end();
    const [, repo, kind, ref] = m;
    if (kind === 'manifests') {
      const found = this.manifests.get(`${repo}:${ref}`);
      if (!found) return void res.writeHead(404).end();
      if (found.chunked) {
        // No Content-Length: only counting the bytes as they come can bound it.
        res.writeHead(200, { 'content-type': found.mediaType });
        for (let i = 0; i < found.body.length; i += 64 << 10)
          res.write(found.body.subarray(i, i + (64 << 10)));
        return void res.end();
      }
      return void res
        .writeHead(200, { 'content-type': found.mediaType, 'content-length': found.body.length })
        .end(found.body);
    }
    this.blobRequests++;
    const blob = this.blobs.get(ref);
    if (!blob) return void res.writeHead(404).end();
    const how = this.behaviour.get(ref) ?? 'normal';
    if (how === 'normal') return void res.writeHead(200, { 'content-length': blob.length }).end(blob);
    if ('replaceWith' in how)
      return void res.writeHead(200, { 'content-length': how.replaceWith.length }).end(how.replaceWith);
    if ('truncateTo' in how) {
      const part = blob.subarray(0, how.truncateTo);
      return void res.writeHead(200, { 'content-length': part.length }).end(part);
    }
    if ('redirectTo' in how) return void res.writeHead(307, { location: how.redirectTo }).end();
    if ('drip' in how) {
      res.writeHead(200);
      let at = 0;
      const next = () => {
        if (res.destroyed) return;
        const part = blob.subarray(at, (at += how.drip.chunk));
        this.blobBytesSent += part.length;
        if (at >= blob.length) return void res.end(part);
        res.write(part);
        setTimeout(next, how.drip.everyMs);
      };
      return next();
    }
    if ('dropAfter' in how) {
      if (how.times-- <= 0) return void res.writeHead(200, { 'content-length': blob.length }).end(blob);
      res.writeHead(200, { 'content-length': blob.length });
      res.write(blob.subarray(0, how.dropAfter), () => res.socket?.destroy()); // a connection that breaks off
      return;
    }
    res.writeHead(200, { 'content-length': blob.length });
    res.write(blob.subarray(0, how.stallAfter)); // then nothing more: a stalled transfer
  }
}
