// Streaming exec over SPDY/3.1 with the real crictl (client-go's SPDY executor, as the kubelet
// proxies it): output, exit codes, a terminal, and 100 MB through stdin and stdout.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runTool } from '../../support/tools';
import { startStreamingNode, type Ids, type StreamingNode } from './node';

let node: StreamingNode;
let ids: Ids;

jest.setTimeout(180_000);

beforeAll(async () => {
  node = await startStreamingNode();
  ids = node.runContainer('exec', { command: ['sleep', '3600'] });
});

afterAll(async () => {
  await node?.stop();
});

describe('crictl exec over SPDY', () => {
  it('prints what the command writes on stdout', () => {
    const r = node.crictl(['exec', ids.containerId, 'echo', 'hello']);
    expect(r.err).toBe('');
    expect(r.out).toBe('hello\n');
    expect(r.code).toBe(0);
  });

  it('keeps stderr apart from stdout', () => {
    const r = node.crictl(['exec', ids.containerId, 'sh', '-c', 'echo out; echo err >&2']);
    expect(r.out).toBe('out\n');
    expect(r.err).toBe('err\n');
  });

  it('reports the exit code of a command that fails', () => {
    // crictl itself exits 1 on any streaming error; the code travels in the v4 status.
    const r = node.crictl(['exec', ids.containerId, 'sh', '-c', 'exit 7']);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('exit code 7');
  });

  it('passes stdin to the command and ends it when the input ends', () => {
    const r = node.crictl(['exec', '-i', ids.containerId, 'sh', '-c', 'tr a-z A-Z'], { input: 'shout\n' });
    expect(r.out).toBe('SHOUT\n');
    expect(r.code).toBe(0);
  });

  it('carries 100 MB through stdin and stdout intact', () => {
    const input = path.join(node.root, 'big.in');
    const output = path.join(node.root, 'big.out');
    const data = crypto.randomBytes(1024 * 1024);
    const fd = fs.openSync(input, 'w');
    for (let i = 0; i < 100; i++) fs.writeSync(fd, data);
    fs.closeSync(fd);
    const inFd = fs.openSync(input, 'r');
    const outFd = fs.openSync(output, 'w');
    const r = runTool(
      node.crictlBin,
      ['--runtime-endpoint', node.daemon.endpoint, 'exec', '-i', ids.containerId, 'cat'],
      {
        stdio: [inFd, outFd, 'pipe'],
        env: { ...process.env, CRI_CONFIG_FILE: '/dev/null' },
        timeout: 150_000,
      },
    );
    fs.closeSync(inFd);
    fs.closeSync(outFd);
    expect(r.code).toBe(0);
    expect(fs.statSync(output).size).toBe(100 * 1024 * 1024);
    const hash = (p: string) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    expect(hash(output)).toBe(hash(input));
    fs.rmSync(input);
    fs.rmSync(output);
  });

  it('gives the command a terminal with -t', () => {
    // `script` gives crictl the terminal it asks for on its own side.
    const r = runTool(
      'script',
      [
        '-qec',
        `${node.crictlBin} --runtime-endpoint ${node.daemon.endpoint} exec -it ${ids.containerId} sh -c 'tty; stty size'`,
        '/dev/null',
      ],
      { input: '', env: { ...process.env, CRI_CONFIG_FILE: '/dev/null' }, timeout: 30_000 },
    );
    expect(r.out).toMatch(/\/dev\/pts\/\d+/);
    expect(r.code).toBe(0);
  });

  it('runs what is typed into an interactive shell with -it', () => {
    const r = runTool(
      'script',
      [
        '-qec',
        `${node.crictlBin} --runtime-endpoint ${node.daemon.endpoint} exec -it ${ids.containerId} sh`,
        '/dev/null',
      ],
      {
        input: 'echo $((6 * 7))\nexit\n',
        env: { ...process.env, CRI_CONFIG_FILE: '/dev/null' },
        timeout: 30_000,
      },
    );
    expect(r.out).toContain('42');
    expect(r.code).toBe(0);
  });

  it('refuses an exec into a container that does not exist', () => {
    const r = node.crictl(['exec', 'no-such-container', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/not found/i);
  });
});
