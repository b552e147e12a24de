// Attach and port-forward over SPDY/3.1 with the real crictl, and the CRI errors of the three
// streaming RPCs.
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { criClient, type TestCriClient } from '../../support/cri_client';
import { runTool } from '../../support/tools';
import { startStreamingNode, type StreamingNode } from './node';

let node: StreamingNode;
let cri: TestCriClient;

jest.setTimeout(120_000);

beforeAll(async () => {
  node = await startStreamingNode();
  cri = criClient(node.daemon.endpoint);
});

afterAll(async () => {
  cri?.close();
  await node?.stop();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once crictl port-forward says it listens. */
function forwarding(pf: ReturnType<StreamingNode['crictlAsync']>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    pf.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Forwarding from')) resolve();
    });
    pf.once('exit', (code) => reject(new Error(`crictl port-forward exited with ${code}`)));
  });
}

function getBytes(port: number, urlPath: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/index.html' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('crictl attach over SPDY', () => {
  it("shows the main process's output for the input the client sends", () => {
    const { containerId } = node.runContainer('attach', { command: ['sh'], stdin: true });
    const r = node.crictl(['attach', '-i', containerId], { input: 'echo attached; exit 0\n' });
    expect(r.out).toBe('attached\n');
    expect(r.code).toBe(0);
  });

  it('runs what is typed into a terminal container with -it, at the size of the client terminal', () => {
    const { containerId } = node.runContainer('attachtty', { command: ['sh'], stdin: true, tty: true });
    // `script` gives crictl the terminal it asks for; stty sets the size crictl then sends.
    const attach = `${node.crictlBin} --runtime-endpoint ${node.daemon.endpoint} attach -it ${containerId}`;
    const r = runTool('script', ['-qec', `stty rows 41 cols 101; ${attach}`, '/dev/null'], {
      input: 'stty size; echo $((6 * 7)); exit 3\n',
      env: { ...process.env, CRI_CONFIG_FILE: '/dev/null' },
      timeout: 30_000,
    });
    expect(r.out).toContain('41 101');
    expect(r.out).toContain('42');
    const status = node.crictl([
      'inspect',
      '-o',
      'go-template',
      '--template',
      '{{.status.exitCode}}',
      containerId,
    ]);
    expect(status.out.trim()).toBe('3');
  });

  it('closes stdin of a stdin_once container when the client is done, and reports the exit', () => {
    const { containerId } = node.runContainer('attachonce', {
      command: ['sh', '-c', 'cat; echo "stdin closed"'],
      stdin: true,
      stdin_once: true,
    });
    const r = node.crictl(['attach', '-i', containerId], { input: 'first line\n' });
    expect(r.out).toBe('first line\nstdin closed\n');
    expect(r.code).toBe(0);
  });

  it('refuses stdin for a container created without it', () => {
    const { containerId } = node.runContainer('nostdin', { command: ['sleep', '3600'] });
    const r = node.crictl(['attach', '-i', containerId], { input: 'x\n' });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('created without stdin');
  });
});

describe('crictl port-forward over SPDY', () => {
  it("reaches a web server inside the pod's network namespace", async () => {
    const { podId } = node.runContainer('web', {
      command: ['sh', '-c', 'echo served > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'],
    });
    const local = await freePort();
    const pf = node.crictlAsync(['port-forward', podId, `${local}:8080`]);
    try {
      await forwarding(pf);
      // Several connections, one after the other and at once.
      expect(await get(local)).toEqual({ status: 200, body: 'served\n' });
      const many = await Promise.all([get(local), get(local), get(local)]);
      expect(many.map((r) => r.body)).toEqual(['served\n', 'served\n', 'served\n']);
    } finally {
      const exited = new Promise((resolve) => pf.once('exit', resolve));
      pf.kill('SIGINT');
      await exited;
    }
  });
});

describe('crictl port-forward under load', () => {
  it('carries 20 connections at once, each with a megabyte intact', async () => {
    const { podId, containerId } = node.runContainer('web20', {
      command: [
        'sh',
        '-c',
        'mkdir /tmp/www && dd if=/dev/urandom of=/tmp/www/blob bs=1024 count=1024 && exec httpd -f -p 8080 -h /tmp/www',
      ],
    });
    const local = await freePort();
    const pf = node.crictlAsync(['port-forward', podId, `${local}:8080`]);
    try {
      await forwarding(pf);
      const inContainer = node.crictl(['exec', containerId, 'md5sum', '/tmp/www/blob']).out.split(' ')[0];
      expect(inContainer).toMatch(/^[0-9a-f]{32}$/);
      const bodies = await Promise.all(Array.from({ length: 20 }, () => getBytes(local, '/blob')));
      expect(bodies.map((b) => [b.length, createHash('md5').update(b).digest('hex')])).toEqual(
        Array.from({ length: 20 }, () => [1024 * 1024, inContainer]),
      );
    } finally {
      const exited = new Promise((resolve) => pf.once('exit', resolve));
      pf.kill('SIGINT');
      await exited;
    }
  });
});

describe('the streaming RPCs', () => {
  it('answer NOT_FOUND for an unknown container or pod', async () => {
    const exec = { container_id: 'nope', cmd: ['true'], stdout: true };
    await expect(cri.runtime('Exec', exec)).rejects.toMatchObject({ code: 5 });
    await expect(cri.runtime('Attach', { container_id: 'nope', stdout: true })).rejects.toMatchObject({
      code: 5,
    });
    await expect(cri.runtime('PortForward', { pod_sandbox_id: 'nope', port: [80] })).rejects.toMatchObject({
      code: 5,
    });
  });

  it('answer INVALID_ARGUMENT when none of stdin, stdout and stderr is asked for', async () => {
    const { containerId } = node.runContainer('invalid', { command: ['sleep', '3600'] });
    await expect(cri.runtime('Exec', { container_id: containerId, cmd: ['true'] })).rejects.toMatchObject({
      code: 3,
    });
    await expect(cri.runtime('Attach', { container_id: containerId })).rejects.toMatchObject({ code: 3 });
  });

  it('hand out absolute URLs that work once', async () => {
    const { podId } = node.runContainer('once', { command: ['sleep', '3600'] });
    const { url } = await cri.runtime<{ url: string }>('PortForward', { pod_sandbox_id: podId, port: [80] });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/portforward\/\S+$/);
    const status = (u: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(u, {
          method: 'POST',
          headers: {
            Connection: 'Upgrade',
            Upgrade: 'SPDY/3.1',
            'X-Stream-Protocol-Version': 'portforward.k8s.io',
          },
        });
        req.on('upgrade', (res, socket) => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status(url)).toBe(101);
    expect(await status(url)).toBe(404);
  });
});
