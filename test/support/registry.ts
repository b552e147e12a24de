// A real docker-registry for tests: serves a copy of the fixture images (scripts/fixtures/
// build-images.sh, cached) from its own temp storage on a free 127.0.0.1 port. Never the system
// service. stop() kills it and removes its storage.
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
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
  stop(): Promise<void>;
}

/** Builds (or finds in the cache) the fixture registry storage; returns its directory. */
export function fixtureStorage(): string {
  const out = execFileSync(path.join(ROOT, 'scripts/fixtures/build-images.sh'), {
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

/** Starts a registry; with `withFixtures` its storage starts as a copy of the fixture images. */
export async function startRegistry(options: { withFixtures?: boolean } = {}): Promise<TestRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-registry-'));
  const storage = path.join(dir, 'storage');
  if (options.withFixtures) fs.cpSync(fixtureStorage(), storage, { recursive: true });
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
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://${host}/v2/`).then(
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
    stop,
  };
}
