// A real docker-registry for tests: serves a copy of the fixture images (scripts/fixtures/
// build-images.sh, cached) from its own temp storage on a free 127.0.0.1 port. Never the system
// service. stop() kills it and removes its storage. With `faults`, clients reach it through a small
// proxy that logs every request and can break the next download of a blob on purpose (the
// connection closed mid-blob, or a stall), and can hide the registry's HTTP range support.
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
/** The upstream hosts whose images the fixtures stand in for. */
export const MIRRORED_HOSTS = ['registry.k8s.io', 'k8s.gcr.io', 'gcr.io', 'docker.io', 'public.ecr.aws'];

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** The `registry` section of a daemon config that sends the critest hosts to this registry. */
  mirrorConfig(): { mirrors: Record<string, string[]> };
  /** Uploads an image (blobs, then the manifest under `tag`) through the distribution API. */
  push(repo: string, tag: string, image: PushedImage): Promise<void>;
  /** With `faults` only: what the proxy saw and what it is to break. */
  faults?: RegistryFaults;
  stop(): Promise<void>;
}

export interface PushedImage {
  manifest: Buffer;
  blobs: Map<string, Buffer>;
}

/** How the next GET of a blob is broken: once, then the blob is served normally again. */
export type BlobFault =
  /** Send this many bytes of the body, then close the connection. */
  | { closeAfter: number }
  /** Send this many bytes of the body, then nothing more while the connection stays open. */
  | { stallAfter: number };

export interface ProxiedRequest {
  method: string;
  path: string;
  /** The Range header the client sent, if any. */
  range?: string;
  status: number;
}

export interface RegistryFaults {
  /** Every request, in order. */
  readonly requests: ProxiedRequest[];
  breakNext(digest: string, fault: BlobFault): void;
  /** Drop clients' Range headers, as a registry without range support would (it answers 200). */
  ignoreRanges: boolean;
}

/** Builds (or finds in the cache) the fixture registry storage; returns its directory. */
export function fixtureStorage(): string {
  return builtStorage('scripts/fixtures/build-images.sh');
}

/** The same for the images of the Kubernetes conformance suite (scripts/fixtures/build-e2e-images.sh). */
export function e2eImageStorage(): string {
  return builtStorage('scripts/fixtures/build-e2e-images.sh');
}

function builtStorage(script: string): string {
  const out = execFileSync(path.join(ROOT, script), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  return path.join(out.trim().split('\n').pop()!, 'registry');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * Starts a registry; with `withFixtures` its storage starts as a copy of the fixture images, with
 * `storage` as a copy of that registry storage directory (such as e2eImageStorage()).
 */
export async function startRegistry(
  options: { withFixtures?: boolean; storage?: string; faults?: boolean } = {},
): Promise<TestRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-registry-'));
  const storage = path.join(dir, 'storage');
  const source = options.storage ?? (options.withFixtures ? fixtureStorage() : undefined);
  if (source) fs.cpSync(source, storage, { recursive: true });
  else fs.mkdirSync(storage);
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${storage} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port} }`,
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proxy = options.faults ? await startFaultProxy(`127.0.0.1:${port}`) : undefined;
  const stop = async () => {
    await proxy?.stop();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const backend = `127.0.0.1:${port}`;
  const host = proxy?.host ?? backend;
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://${backend}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 100 || child.exitCode !== null) {
      await stop();
      throw new Error(`Cannot start docker-registry on ${host}: it did not answer`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    mirrorConfig: () => ({
      mirrors: Object.fromEntries(MIRRORED_HOSTS.map((h) => [h, [`http://${host}`]])),
    }),
    push: (repo, tag, image) => pushImage(backend, repo, tag, image),
    faults: proxy?.faults,
    stop,
  };
}

async function pushImage(host: string, repo: string, tag: string, image: PushedImage): Promise<void> {
  for (const [digest, bytes] of image.blobs) {
    const started = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location');
    if (started.status !== 202 || !location)
      throw new Error(`Cannot start an upload to ${repo}: ${started.status}`);
    const url = new URL(location, `http://${host}`);
    url.searchParams.set('digest', digest);
    const put = await fetch(url, {
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (put.status !== 201)
      throw new Error(`Cannot upload ${digest} to ${repo}: ${put.status} ${await put.text()}`);
  }
  const mediaType = (JSON.parse(image.manifest.toString()) as { mediaType: string }).mediaType;
  const put = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: image.manifest,
    headers: { 'content-type': mediaType },
  });
  if (put.status !== 201)
    throw new Error(`Cannot push the manifest of ${repo}:${tag}: ${put.status} ${await put.text()}`);
}

/** The proxy in front of docker-registry that logs requests and breaks blob downloads on demand. */
async function startFaultProxy(
  backend: string,
): Promise<{ host: string; faults: RegistryFaults; stop(): Promise<void> }> {
  const pending = new Map<string, BlobFault>();
  const sockets = new Set<net.Socket>();
  const faults: RegistryFaults = {
    requests: [],
    breakNext: (digest, fault) => pending.set(digest, fault),
    ignoreRanges: false,
  };
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, host: backend };
    if (faults.ignoreRanges) delete headers.range;
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      range: req.headers.range,
      status: 0,
    };
    faults.requests.push(entry);
    const digest = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(entry.path)?.[1];
    const fault = req.method === 'GET' && digest ? pending.get(digest) : undefined;
    if (fault) pending.delete(digest!);
    const upstream = http.request(
      `http://${backend}${req.url}`,
      { method: req.method, headers },
      (answer) => {
        entry.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!fault) {
          answer.pipe(res);
          return;
        }
        const limit = 'closeAfter' in fault ? fault.closeAfter : fault.stallAfter;
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= limit) return;
          const part = chunk.subarray(0, limit - sent);
          sent += part.length;
          if (sent < limit) {
            res.write(part);
            return;
          }
          answer.destroy();
          // The bytes reach the client first, then the connection ends without the rest (or stays open, silent).
          res.write(part, () => {
            if ('closeAfter' in fault) res.socket?.destroy();
          });
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${port}`,
    faults,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
