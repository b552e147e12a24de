import http from 'node:http';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { FakeCri } from './fake_cri.testutil';
import { resolvePort, runCheck } from './probe_check';

const container = { name: 'c', image: 'i', ports: [{ name: 'web', containerPort: 8080 }] };
const cri = new FakeCri();
const target = () => ({ containerId: 'c1', container, podIP: '127.0.0.1' });

function listen(server: http.Server | net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

test('named ports resolve through the container ports', () => {
  expect(resolvePort('web', container)).toBe(8080);
  expect(resolvePort('81', container)).toBe(81);
  expect(() => resolvePort('nope', container)).toThrow("no port named 'nope'");
});

test('an exec probe succeeds when the command exits 0', async () => {
  cri.exec = (req) => (req.cmd?.[0] === 'true' ? 0 : 1);
  expect((await runCheck(cri, { exec: { command: ['true'] } }, target(), 1)).ok).toBe(true);
  const failed = await runCheck(cri, { exec: { command: ['false'] } }, target(), 1);
  expect(failed).toMatchObject({ ok: false, message: expect.stringContaining('exited with 1') });
});

test('an httpGet probe succeeds on 2xx and 3xx and fails on other codes or no answer', async () => {
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === '/ok' ? 200 : req.url === '/moved' ? 302 : 500;
    res.end();
  });
  const port = await listen(server);
  try {
    expect((await runCheck(cri, { httpGet: { path: '/ok', port } }, target(), 1)).ok).toBe(true);
    expect((await runCheck(cri, { httpGet: { path: '/moved', port } }, target(), 1)).ok).toBe(true);
    expect(await runCheck(cri, { httpGet: { path: '/bad', port } }, target(), 1)).toMatchObject({
      ok: false,
      message: 'HTTP probe failed with statuscode: 500',
    });
  } finally {
    server.close();
  }
  expect((await runCheck(cri, { httpGet: { path: '/ok', port } }, target(), 1)).ok).toBe(false);
});

test('a tcpSocket probe succeeds when the port accepts a connection', async () => {
  const server = net.createServer((s) => s.end());
  const port = await listen(server);
  try {
    expect((await runCheck(cri, { tcpSocket: { port } }, target(), 1)).ok).toBe(true);
  } finally {
    server.close();
  }
  expect((await runCheck(cri, { tcpSocket: { port } }, target(), 1)).ok).toBe(false);
});

test('a grpc probe asks grpc.health.v1 and succeeds only on SERVING', async () => {
  let serving = true;
  const server = new grpc.Server();
  server.addService(
    {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      Check: (_call: unknown, cb: (e: null, r: Buffer) => void) =>
        cb(null, Buffer.from([0x08, serving ? 1 : 2])),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  try {
    expect((await runCheck(cri, { grpc: { port } }, target(), 2)).ok).toBe(true);
    serving = false;
    expect(await runCheck(cri, { grpc: { port } }, target(), 2)).toMatchObject({
      ok: false,
      message: expect.stringContaining('status 2'),
    });
  } finally {
    server.forceShutdown();
  }
});
