import fs from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readKubeconfig, webhookAuthorizer, webhookTokenReviewer } from './api_reviews';
import { requestAttributes } from './auth';
import { loadServingCert } from './serving_cert';

// A stand-in API server: records each review and answers as a real one would.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-reviews-'));
const cert = loadServingCert({ certDir: dir, nodeName: 'api', addresses: ['127.0.0.1'] });
const received: { path: string; auth: string; body: { spec: Record<string, unknown> } }[] = [];
let server: https.Server;
let kubeconfig: string;

beforeAll(async () => {
  server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const body = JSON.parse(text);
      received.push({ path: req.url ?? '', auth: req.headers.authorization ?? '', body });
      const status = req.url!.includes('tokenreviews')
        ? body.spec.token === 'good'
          ? { authenticated: true, user: { username: 'alice', uid: 'u1', groups: ['devs'] } }
          : body.spec.token === 'odd'
            ? { authenticated: true, user: { username: 'mallory', groups: 'system:masters' } }
            : { authenticated: false }
        : { allowed: body.spec.user === 'alice', reason: body.spec.user === 'alice' ? '' : 'no RBAC rule' };
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ...body, status }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  fs.writeFileSync(path.join(dir, 'token'), 'node-token\n');
  kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
current-context: node
contexts: [{ name: node, context: { cluster: c, user: n } }]
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:${port}", certificate-authority: kubelet.crt } }]
users: [{ name: n, user: { tokenFile: token } }]
`,
  );
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a kubeconfig gives the server, its CA and the token, with paths relative to the file', () => {
  const conn = readKubeconfig(kubeconfig);
  expect(conn.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(conn.ca?.equals(cert.cert)).toBe(true);
  expect(conn.token).toBe('node-token');
});

test('a token is reviewed once, as the node, and its user kept for a while', async () => {
  const reviewer = webhookTokenReviewer(readKubeconfig(kubeconfig));
  expect(await reviewer.reviewToken('good')).toEqual({ name: 'alice', uid: 'u1', groups: ['devs'] });
  expect(await reviewer.reviewToken('good')).toEqual({ name: 'alice', uid: 'u1', groups: ['devs'] });
  expect(await reviewer.reviewToken('bad')).toBeUndefined();
  const reviews = received.filter((r) => r.path.endsWith('/tokenreviews'));
  expect(reviews).toHaveLength(2);
  expect(reviews[0].auth).toBe('Bearer node-token');
});

test('access is asked as a SubjectAccessReview on nodes/<subresource> of this node', async () => {
  const authorizer = webhookAuthorizer(readKubeconfig(kubeconfig));
  const [attrs] = requestAttributes('GET', '/stats/summary', 'n1');
  expect(await authorizer.authorize({ name: 'alice', groups: ['devs'] }, attrs)).toEqual({
    allowed: true,
    reason: '',
  });
  expect(await authorizer.authorize({ name: 'bob', groups: [] }, attrs)).toEqual({
    allowed: false,
    reason: 'no RBAC rule',
  });
  const sar = received.find((r) => r.path.endsWith('/subjectaccessreviews'))!;
  expect(sar.body.spec).toMatchObject({
    user: 'alice',
    groups: ['devs'],
    resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'stats', name: 'n1' },
  });
});

test('a TokenReview answer with a field of the wrong shape is refused naming it, not half-read', async () => {
  const reviewer = webhookTokenReviewer(readKubeconfig(kubeconfig));
  await expect(reviewer.reviewToken('odd')).rejects.toThrow(
    "Cannot read the answer to POST '/apis/authentication.k8s.io/v1/tokenreviews': status.user.groups: Expected array, received string",
  );
});
