// Exec and attach over WebSocket with the `ws` client, as client-go's WebSocket executor speaks it:
// one channel byte before each message, v5's close signal to end stdin, the status on channel 3.
import WebSocket from 'ws';
import { criClient, type TestCriClient } from '../../support/cri_client';
import { startStreamingNode, type Ids, type StreamingNode } from './node';

let node: StreamingNode;
let cri: TestCriClient;
let ids: Ids;

jest.setTimeout(120_000);

beforeAll(async () => {
  node = await startStreamingNode();
  cri = criClient(node.daemon.endpoint);
  ids = node.runContainer('ws', { command: ['sleep', '3600'] });
});

afterAll(async () => {
  cri?.close();
  await node?.stop();
});

interface Session {
  protocol: string;
  channels: Record<number, string>;
  closeCode: number;
}

async function session(url: string, protocols: string[], send: (ws: WebSocket) => void): Promise<Session> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols);
  const channels: Record<number, string> = {};
  ws.on('message', (data: Buffer) => {
    channels[data[0]] = (channels[data[0]] ?? '') + data.subarray(1).toString();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  send(ws);
  const closeCode = await new Promise<number>((resolve) => ws.once('close', resolve));
  return { protocol: ws.protocol, channels, closeCode };
}

const exec = async (req: Record<string, unknown>) =>
  (await cri.runtime<{ url: string }>('Exec', { container_id: ids.containerId, ...req })).url;

describe('exec over WebSocket', () => {
  it('v5: stdin until the close signal, output on channel 1, the exit code in the status', async () => {
    const url = await exec({ cmd: ['sh', '-c', 'cat; exit 3'], stdin: true, stdout: true, stderr: true });
    const s = await session(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], (ws) => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('through the pipe')]));
      ws.send(Buffer.from([255, 0]));
    });
    expect(s.protocol).toBe('v5.channel.k8s.io');
    expect(s.channels[1]).toBe('through the pipe');
    expect(JSON.parse(s.channels[3])).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(s.closeCode).toBe(1000);
  });

  it('v4: stderr on channel 2 and a Success status', async () => {
    const url = await exec({ cmd: ['sh', '-c', 'echo oops >&2'], stdout: true, stderr: true });
    const s = await session(url, ['v4.channel.k8s.io'], () => undefined);
    expect(s.protocol).toBe('v4.channel.k8s.io');
    expect(s.channels[2]).toBe('oops\n');
    expect(JSON.parse(s.channels[3])).toEqual({ metadata: {}, status: 'Success' });
  });

  it('gives a terminal the size sent on the resize channel', async () => {
    const url = await exec({ cmd: ['sh', '-c', 'sleep 1; stty size'], tty: true, stdin: true, stdout: true });
    const s = await session(url, ['v5.channel.k8s.io'], (ws) => {
      ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":123,"Height":45}')]));
    });
    expect(s.channels[1]).toContain('45 123');
  });

  it('kills the exec process when the client goes away', async () => {
    const url = await exec({ cmd: ['sleep', '1234'], stdout: true, stderr: true });
    const ws = new WebSocket(url.replace(/^http/, 'ws'), ['v5.channel.k8s.io']);
    await new Promise((resolve) => ws.once('open', resolve));
    const running = async () => {
      const r = await cri.runtime<{ stdout: Buffer }>('ExecSync', {
        container_id: ids.containerId,
        cmd: ['ps', '-o', 'args'],
        timeout: 10,
      });
      return r.stdout.toString().includes('sleep 1234');
    };
    while (!(await running())) await new Promise((r) => setTimeout(r, 100));
    ws.terminate();
    while (await running()) await new Promise((r) => setTimeout(r, 100));
  });
});

describe('attach over WebSocket', () => {
  it('types into a terminal container, at the size sent on the resize channel, and ends with its exit', async () => {
    const { containerId } = node.runContainer('wstty', { command: ['sh'], stdin: true, tty: true });
    const { url } = await cri.runtime<{ url: string }>('Attach', {
      container_id: containerId,
      stdin: true,
      stdout: true,
      tty: true,
    });
    const s = await session(url, ['v5.channel.k8s.io'], (ws) => {
      ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":97,"Height":31}')]));
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('stty size; exit 7\r')]));
    });
    expect(s.channels[1]).toContain('31 97');
    expect(JSON.parse(s.channels[3])).toMatchObject({ details: { causes: [{ message: '7' }] } });
  });

  it('gives every attached client the output, base64 clients included', async () => {
    // It ticks until told to stop, so the test knows when every client is attached.
    const { containerId } = node.runContainer('wsmany', {
      command: ['sh', '-c', 'until [ -e /tmp/go ]; do echo tick; sleep 0.2; done; echo "to everyone"'],
    });
    const clients = await Promise.all(
      ['v4.channel.k8s.io', 'v5.channel.k8s.io', 'base64.channel.k8s.io'].map(async (protocol) => {
        const { url } = await cri.runtime<{ url: string }>('Attach', {
          container_id: containerId,
          stdout: true,
        });
        const ws = new WebSocket(url.replace(/^http/, 'ws'), [protocol]);
        const client = { output: '', closed: new Promise((resolve) => ws.once('close', resolve)) };
        ws.on('message', (m: Buffer, isBinary: boolean) => {
          // base64 clients get text: the channel's digit, then the payload in base64.
          const text = m.toString();
          const channel = isBinary ? m[0] : Number(text[0]);
          const payload = isBinary ? m.subarray(1) : Buffer.from(text.slice(1), 'base64');
          if (channel === 1) client.output += payload.toString();
        });
        return client;
      }),
    );
    while (!clients.every((c) => c.output.includes('tick\n'))) await new Promise((r) => setTimeout(r, 100));
    await cri.runtime('ExecSync', { container_id: containerId, cmd: ['touch', '/tmp/go'], timeout: 10 });
    for (const c of clients) {
      await c.closed;
      expect(c.output).toMatch(/tick\nto everyone\n$/);
    }
  });
});
