import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { defaultSpec } from '../runtime/spec';
import { MonitorConnection } from './connection';
import { encode, PROTOCOL_VERSION } from './protocol';
import { parseRequest, parseResult, parseServerMessage } from './protocol_schema';

const v = PROTOCOL_VERSION;
const spec = () => defaultSpec({ id: 'c1', rootPath: '/tmp/rootfs', args: ['sh'] });

describe('requests as the monitor reads them', () => {
  it('reads a create request with its whole container spec', () => {
    const params = { id: 'c1', spec: spec(), logPath: '/var/log/c1.log', tty: false };
    expect(parseRequest({ v, id: 3, op: 'create', params })).toEqual({ v, id: 3, op: 'create', params });
  });

  it.each([
    ['a create without its spec', 'create', { id: 'c1', logPath: '/l' }, /'create': params\.spec: Required/],
    [
      'a spec whose args are one string',
      'create',
      { id: 'c1', logPath: '/l', spec: { ...spec(), process: { ...spec().process, args: 'sh' } } },
      /params\.spec\.process\.args: Expected array/,
    ],
    [
      'a namespace of an unknown type',
      'create',
      {
        id: 'c1',
        logPath: '/l',
        spec: { ...spec(), linux: { ...spec().linux, namespaces: [{ type: 'time' }] } },
      },
      /params\.spec\.linux\.namespaces\.0\.type: Invalid enum value/,
    ],
    ['a signal number as a string', 'signal', { id: 'c1', signal: '9' }, /params\.signal: Expected number/],
    [
      'an exec without a command',
      'execSync',
      { id: 'c1', args: [] },
      /params\.args: Array must contain at least 1/,
    ],
    ['an empty container id', 'status', { id: '' }, /params\.id: String must contain at least 1/],
  ])('refuses %s as InvalidArgument naming the field', (_what, op, params, message) => {
    expect(() => parseRequest({ v, id: 1, op, params })).toThrow(
      expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringMatching(message) }),
    );
  });

  it('answers an unknown op as Unimplemented and a request without id as InvalidArgument', () => {
    expect(() => parseRequest({ v, id: 1, op: 'pause', params: {} })).toThrow(
      expect.objectContaining({ kind: 'Unimplemented', message: "Cannot serve 'pause': unknown request" }),
    );
    expect(() => parseRequest({ v, op: 'list', params: {} })).toThrow(
      expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringMatching(/id: Required/) }),
    );
  });
});

describe('answers as the daemon reads them', () => {
  const info = { id: 'c1', state: 'running', pid: 42, logPath: '/l', createdAt: '1', adopted: false };

  it('reads responses, errors and exit events', () => {
    expect(parseServerMessage({ v, id: 1, ok: true, result: info })).toMatchObject({ ok: true });
    const exit = { exitCode: 0, finishedAt: '5', reason: 'Completed' };
    expect(parseServerMessage({ v, event: 'exit', container: 'c1', exit })).toEqual({
      v,
      event: 'exit',
      container: 'c1',
      exit,
    });
    // An error kind this daemon does not know is still an error.
    expect(parseServerMessage({ v, id: 1, ok: false, error: { kind: 'Strange', message: 'm' } })).toEqual({
      v,
      id: 1,
      ok: false,
      error: { kind: 'Internal', message: 'm' },
    });
  });

  it('refuses an exit event without its exit code, naming the field', () => {
    expect(() =>
      parseServerMessage({ v, event: 'exit', container: 'c1', exit: { finishedAt: '5', reason: 'Error' } }),
    ).toThrow(/exit\.exitCode: Required/);
  });

  it.each([
    ['status', { ...info, state: 'paused' }, /result\.state: Invalid enum value/],
    ['status', { ...info, pid: '42' }, /result\.pid: Expected number/],
    ['list', [info, { ...info, adopted: undefined }], /result\.1\.adopted: Required/],
    ['execSync', { stdout: '', stderr: '', exitCode: 0 }, /result\.timedOut: Required/],
  ] as const)('refuses a %s result with a wrong field as Internal, naming it', (op, result, message) => {
    expect(() => parseResult(op, result)).toThrow(
      expect.objectContaining({ kind: 'Internal', message: expect.stringMatching(message) }),
    );
  });
});

describe('a connection to a monitor that answers a malformed result', () => {
  let dir: string;
  let server: net.Server;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-protocol-'));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails that request naming the field, and keeps serving the next', async () => {
    const socketPath = path.join(dir, 'monitor.sock');
    let calls = 0;
    server = net.createServer((socket) => {
      socket.on('data', (chunk) => {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          const { id } = JSON.parse(line) as { id: number };
          const pid = calls++ === 0 ? 'not a pid' : 7;
          const result = { id: 'c1', state: 'running', pid, logPath: '/l', createdAt: '1', adopted: false };
          socket.write(encode({ v, id, ok: true, result }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const connection = new MonitorConnection(
      await MonitorConnection.open(socketPath),
      () => {},
      () => {},
    );
    try {
      await expect(connection.request('status', { id: 'c1' })).rejects.toThrow(
        "Cannot read the monitor's answer to 'status': result.pid: Expected number, received string",
      );
      await expect(connection.request('status', { id: 'c1' })).resolves.toMatchObject({ pid: 7 });
    } finally {
      connection.close();
    }
  });
});
