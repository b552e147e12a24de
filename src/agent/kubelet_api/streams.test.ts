import type http from 'node:http';
import { container, FakeApiCri, sandbox } from './fake_api_cri.testutil';
import { forwardedRequest, streamingUrl } from './streams';

function runtime() {
  const cri = new FakeApiCri();
  const pod = sandbox('s1', 'web', 'uid-1');
  const old = { ...sandbox('s0', 'web', 'uid-1', '500'), state: 'SANDBOX_NOTREADY' as const };
  cri.sandboxes = [old, pod];
  cri.containers = [container('c0', 's1', pod, 'app', 0), container('c1', 's1', pod, 'app', 1)];
  return cri;
}

const q = (s: string) => new URLSearchParams(s);

test('attach goes to the current attempt of the container, without stderr on a terminal', async () => {
  const cri = runtime();
  await streamingUrl(
    cri,
    { kind: 'attach', pod: { namespace: 'default', name: 'web' }, container: 'app' },
    q('input=1&output=1&error=1&tty=1'),
  );
  expect(cri.requests.at(-1)).toEqual({
    method: 'attach',
    arg: { container_id: 'c1', stdin: true, stdout: true, stderr: false, tty: true },
  });
});

test('port-forward goes to the ready sandbox with the ports asked for', async () => {
  const cri = runtime();
  await streamingUrl(
    cri,
    { kind: 'portForward', pod: { namespace: 'default', name: 'web' } },
    q('port=80&port=8080,9090'),
  );
  expect(cri.requests.at(-1)).toEqual({
    method: 'portForward',
    arg: { podSandboxId: 's1', ports: [80, 8080, 9090] },
  });
});

test('requests that cannot work are refused before the runtime is asked', async () => {
  const cri = runtime();
  const pod = { namespace: 'default', name: 'web' };
  await expect(streamingUrl(cri, { kind: 'exec', pod, container: 'app' }, q('command=ls'))).rejects.toThrow(
    'at least 1 of stdin, stdout, stderr',
  );
  await expect(streamingUrl(cri, { kind: 'exec', pod, container: 'app' }, q('output=1'))).rejects.toThrow(
    'command',
  );
  await expect(streamingUrl(cri, { kind: 'portForward', pod }, q('port=99999'))).rejects.toThrow(
    "invalid port '99999'",
  );
  await expect(
    streamingUrl(
      cri,
      { kind: 'exec', pod: { namespace: 'default', name: 'nope' }, container: 'app' },
      q('output=1&command=ls'),
    ),
  ).rejects.toMatchObject({ status: 404 });
  expect(cri.requests.filter((r) => ['exec', 'portForward'].includes(r.method))).toEqual([]);
});

test('the forwarded request keeps the runtime URL query when it has one', () => {
  const req = {
    method: 'GET',
    url: '/portForward/a/b?port=80',
    rawHeaders: ['Upgrade', 'websocket'],
  } as http.IncomingMessage;
  expect(forwardedRequest(req, new URL('http://127.0.0.1:9/pf/tok?x=1'))).toBe(
    'GET /pf/tok?x=1 HTTP/1.1\r\nUpgrade: websocket\r\nHost: 127.0.0.1:9\r\n\r\n',
  );
  expect(forwardedRequest(req, new URL('http://127.0.0.1:9/pf/tok')).split('\r\n')[0]).toBe(
    'GET /pf/tok?port=80 HTTP/1.1',
  );
});
