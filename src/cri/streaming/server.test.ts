import { once } from 'node:events';
import net from 'node:net';
import pino from 'pino';
import WebSocket from 'ws';
import { StreamingServer, type StreamingBackend } from './server';
import { spdyConnect } from './spdy_client.testutil';

const log = pino({ level: 'silent' });

function fakeBackend(overrides: Partial<StreamingBackend> = {}): StreamingBackend {
  return {
    exec: async (_req, session) => {
      let input = '';
      for await (const chunk of session.stdin ?? []) input += String(chunk);
      session.stdout?.write(`got ${input}`);
      session.stderr?.write('warned');
      return { exitCode: 2 };
    },
    attach: async () => ({ exitCode: 0 }),
    portForward: () => async (port) => net.connect(port, '127.0.0.1'),
    ...overrides,
  };
}

async function withServer(backend: StreamingBackend, fn: (s: StreamingServer) => Promise<void>) {
  const server = await StreamingServer.start({
    address: '127.0.0.1:0',
    backend,
    log,
    streamCreationTimeoutMs: 2000,
  });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

const execRequest = {
  kind: 'exec' as const,
  containerId: 'c',
  cmd: ['x'],
  tty: false,
  stdin: true,
  stdout: true,
  stderr: true,
};

describe('the streaming server over SPDY', () => {
  it('runs an exec once its streams are open and ends with the v4 status on the error stream', async () => {
    await withServer(fakeBackend(), async (server) => {
      const c = await spdyConnect(server.urlFor(execRequest), ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
      expect(c.status).toBe(101);
      expect(c.protocol).toBe('v4.channel.k8s.io');
      await c.open(1, { streamType: 'error' });
      await c.open(3, { streamType: 'stdin' });
      await c.open(5, { streamType: 'stdout' });
      await c.open(7, { streamType: 'stderr' });
      c.send(3, 'input', true);
      await c.closed;
      expect(c.received(5)).toEqual({ data: 'got input', fin: true });
      expect(c.received(7)).toEqual({ data: 'warned', fin: true });
      const status = JSON.parse(c.received(1).data);
      expect(status.details.causes).toEqual([{ reason: 'ExitCode', message: '2' }]);
      c.destroy();
    });
  });

  it('gives up on a client that does not open the streams it asked for', async () => {
    let ran = false;
    const backend = fakeBackend({ exec: async () => ((ran = true), { exitCode: 0 }) });
    await withServer(backend, async (server) => {
      const c = await spdyConnect(server.urlFor(execRequest), ['v4.channel.k8s.io']);
      await c.open(1, { streamType: 'error' });
      await c.closed;
      expect(ran).toBe(false);
      c.destroy();
    });
  });

  it('refuses a token it does not know, and a protocol it does not speak', async () => {
    await withServer(fakeBackend(), async (server) => {
      await expect(spdyConnect(`${server.url}/exec/unknown`, ['v4.channel.k8s.io'])).rejects.toThrow('404');
      await expect(spdyConnect(server.urlFor(execRequest), ['v9.channel.k8s.io'])).rejects.toThrow('403');
    });
  });

  it('forwards several connections at once to the ports the client names', async () => {
    const echo = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
    await new Promise((r) => echo.once('listening', r));
    const port = String((echo.address() as net.AddressInfo).port);
    await withServer(fakeBackend(), async (server) => {
      const url = server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [] });
      const c = await spdyConnect(url, ['portforward.k8s.io']);
      expect(c.protocol).toBe('portforward.k8s.io');
      for (const [n, id] of [
        [0, 1],
        [1, 5],
      ]) {
        await c.open(id, { streamType: 'error', port, requestID: String(n) });
        await c.open(id + 2, { streamType: 'data', port, requestID: String(n) });
      }
      c.send(3, 'first', true);
      c.send(7, 'second', true);
      await waitFor(() => c.received(3).fin && c.received(7).fin);
      expect([c.received(3).data, c.received(7).data]).toEqual(['first', 'second']);
      c.destroy();
    });
    echo.close();
  });

  it('writes why a port could not be reached on the error stream', async () => {
    await withServer(fakeBackend(), async (server) => {
      const c = await spdyConnect(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [] }), [
        'portforward.k8s.io',
      ]);
      await c.open(1, { streamType: 'error', port: '1', requestID: '0' });
      await c.open(3, { streamType: 'data', port: '1', requestID: '0' });
      await waitFor(() => c.received(1).fin);
      expect(c.received(1).data).toMatch(/an error occurred forwarding 1 -> 1: .*ECONNREFUSED/);
      c.destroy();
    });
  });
});

describe('the streaming server over WebSocket', () => {
  it('forwards a port in the older channel form: port header, then data both ways', async () => {
    const echo = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
    await new Promise((r) => echo.once('listening', r));
    const port = (echo.address() as net.AddressInfo).port;
    await withServer(fakeBackend(), async (server) => {
      const url = server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [] });
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}?port=${port}`, ['v4.channel.k8s.io']);
      const messages: Buffer[] = [];
      ws.on('message', (m: Buffer) => messages.push(m));
      await new Promise((r) => ws.once('open', r));
      await waitFor(() => messages.length >= 2);
      expect(messages.map((m) => [m[0], m.readUInt16LE(1)])).toEqual([
        [0, port],
        [1, port],
      ]);
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('ping')]));
      await waitFor(() => messages.length >= 3);
      expect(messages[2].toString('utf8', 1)).toBe('ping');
      ws.close();
    });
    echo.close();
  });

  it('speaks base64.channel.k8s.io: a channel digit, then the payload in base64, in text messages', async () => {
    const echoOnce: StreamingBackend['exec'] = async (_req, session) => {
      const [chunk] = (await once(session.stdin!, 'data')) as [Buffer];
      session.stdout?.write(`got ${chunk}`);
      return { exitCode: 0 };
    };
    await withServer(fakeBackend({ exec: echoOnce }), async (server) => {
      const url = server.urlFor(execRequest).replace(/^http/, 'ws');
      const ws = new WebSocket(url, ['v4.base64.channel.k8s.io']);
      const messages: string[] = [];
      ws.on('message', (m: Buffer, isBinary: boolean) =>
        messages.push(`${isBinary ? 'binary' : 'text'} ${m}`),
      );
      const closed = once(ws, 'close');
      await once(ws, 'open');
      expect(ws.protocol).toBe('v4.base64.channel.k8s.io');
      ws.send('0' + Buffer.from('typed').toString('base64'));
      await closed;
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      expect(messages).toEqual([
        `text 1${b64('got typed')}`,
        `text 3${b64(JSON.stringify({ metadata: {}, status: 'Success' }))}`,
      ]);
    });
  });

  it('refuses a port-forward that names neither protocol nor ports', async () => {
    await withServer(fakeBackend(), async (server) => {
      const url = server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [] });
      const ws = new WebSocket(url.replace(/^http/, 'ws'), ['v4.channel.k8s.io']);
      const status = await new Promise<number>((resolve) =>
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
      );
      expect(status).toBe(400);
    });
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}
