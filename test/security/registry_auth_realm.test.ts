// A registry names the token service (the realm of its `WWW-Authenticate: Bearer` challenge), and
// the credentials for the registry go with the token request. A hostile registry names a realm of
// its choosing: it must never get credentials sent in clear text to a host the configuration does
// not allow plain HTTP for, nor through a redirect. The rule: HTTPS realms, on any host (Docker
// Hub's realm is auth.docker.io); plain HTTP only to loopback or registry.insecureRegistries;
// no other scheme; no redirects.
//
// Two real servers: the registry (hostile_registry.ts, on loopback, which may be plain HTTP) and
// a token service that records what reached it, on this machine's non-loopback address, which
// stands for "another host".
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { Images } from '../../src/image';
import { buildImage, HostileRegistry, layerTar } from '../integration/image/hostile_registry';
import type { BuiltImage } from '../integration/image/hostile_registry';
import { leftovers, smallDisk, SmallDisk } from './image_support';

interface Seen {
  url: string;
  authorization?: string;
  body: string;
}

class TokenService {
  readonly seen: Seen[] = [];
  private server?: http.Server;
  address = '';

  constructor(
    private readonly token: string,
    private readonly redirectTo?: () => string,
    /** Served instead of a token: a blob this server stores for the registry. */
    private readonly blob?: Buffer,
  ) {}

  async start(host: string): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.seen.push({ url: req.url ?? '', authorization: req.headers.authorization, body });
        if (this.redirectTo) return void res.writeHead(307, { location: this.redirectTo() }).end();
        if (this.blob) return void res.writeHead(200).end(this.blob);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: this.token }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, host, resolve));
    const { port } = this.server.address() as net.AddressInfo;
    this.address = `${host}:${port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** This machine's first non-loopback IPv4 address: a host that is not loopback. */
function otherHost(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('Cannot find a non-loopback IPv4 address for the second server');
}

const creds = { username: 'alice', password: 'secret' };
let disk: SmallDisk;
let registry: HostileRegistry;
let recorder: TokenService;

beforeEach(async () => {
  disk = smallDisk(64);
  registry = new HostileRegistry();
  await registry.start();
  registry.requireAuth = { user: 'alice', password: 'secret', token: 'tok123' };
  registry.add('private/img', '1', buildImage([await layerTar([{ name: 'hello', data: 'hi\n' }])]));
  recorder = new TokenService('tok123');
  await recorder.start(otherHost());
});

afterEach(async () => {
  await recorder.stop();
  await registry.stop();
  await disk.remove();
});

const open = (insecureRegistries: string[] = []) =>
  Images.open({
    stateDir: disk.stateDir,
    registry: { retries: 0, requestTimeoutSeconds: 5, freeSpaceReserveBytes: 0, insecureRegistries },
  });

describe('where the credentials for a registry may go', () => {
  it('sends nothing to a plain-HTTP realm on a host that is neither loopback nor insecure', async () => {
    registry.realm = `http://${recorder.address}/token`;
    const images = await open();
    await expect(images.pull(`${registry.host}/private/img:1`, { creds })).rejects.toEqual(
      expect.objectContaining({
        kind: 'FailedPrecondition',
        message: expect.stringContaining(`token realm 'http://${recorder.address}/token' is plain HTTP`),
      }),
    );
    expect(recorder.seen).toEqual([]);
    expect(leftovers(disk.stateDir)).toEqual([]);
  });

  it('sends no identity token to such a realm either', async () => {
    registry.realm = `http://${recorder.address}/token`;
    const images = await open();
    await expect(
      images.pull(`${registry.host}/private/img:1`, { creds: { identityToken: 'refresh-me' } }),
    ).rejects.toThrow(/is plain HTTP/);
    expect(recorder.seen).toEqual([]);
  });

  it('refuses a realm that is not HTTP at all', async () => {
    registry.realm = 'file:///etc/shadow';
    const images = await open();
    await expect(images.pull(`${registry.host}/private/img:1`, { creds })).rejects.toThrow(
      /token realm 'file:\/\/\/etc\/shadow' is not HTTP\(S\)/,
    );
  });

  it('does not follow a realm that redirects somewhere else', async () => {
    const bouncer = new TokenService('unused', () => `http://${recorder.address}/token`);
    await bouncer.start('127.0.0.1');
    try {
      registry.realm = `http://${bouncer.address}/token`;
      const images = await open([recorder.address]);
      await expect(images.pull(`${registry.host}/private/img:1`, { creds })).rejects.toThrow(
        /Cannot get a token from 'http:\/\/127\.0\.0\.1/,
      );
      expect(bouncer.seen).toHaveLength(1);
      expect(recorder.seen).toEqual([]);
    } finally {
      await bouncer.stop();
    }
  });

  it('sends the credentials to a plain-HTTP realm whose host is in registry.insecureRegistries', async () => {
    registry.realm = `http://${recorder.address}/token`;
    const images = await open([recorder.address]);
    const image = await images.pull(`${registry.host}/private/img:1`, { creds });
    expect(image.repoTags).toEqual([`${registry.host}/private/img:1`]);
    expect(recorder.seen.map((s) => s.authorization)).toEqual([
      `Basic ${Buffer.from('alice:secret').toString('base64')}`,
    ]);
  });

  it('sends the registry token to the registry only, not to the blob store it redirects to', async () => {
    const img: BuiltImage = buildImage([await layerTar([{ name: 'stored', data: 'elsewhere' }])]);
    registry.add('private/redirected', '1', img);
    const store = new TokenService('unused', undefined, img.blobs.get(img.layerDigests[0]));
    await store.start(otherHost());
    try {
      registry.behaviour.set(img.layerDigests[0], { redirectTo: `http://${store.address}/blob` });
      const images = await open();
      expect((await images.pull(`${registry.host}/private/redirected:1`, { creds })).id).toBe(
        img.configDigest,
      );
      expect(store.seen).toHaveLength(1);
      expect(store.seen[0].authorization).toBeUndefined();
    } finally {
      await store.stop();
    }
  });
});
