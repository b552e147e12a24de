import { kubeletApiConfig } from './flags';

test('standalone defaults: port 10250 on every address, no anonymous access, AlwaysAllow for who authenticates', () => {
  expect(kubeletApiConfig({}, { rootDir: '/var/lib/a' })).toEqual({
    address: '0.0.0.0',
    port: 10250,
    tlsCertFile: undefined,
    tlsPrivateKeyFile: undefined,
    certDir: '/var/lib/a/pki',
    clientCaFile: undefined,
    anonymousAuth: false,
    authenticationTokenWebhook: false,
    authorizationMode: 'AlwaysAllow',
    kubeconfig: undefined,
  });
});

test('connected mode asks the API server by default', () => {
  const c = kubeletApiConfig({}, { rootDir: '/r', kubeconfig: '/k' });
  expect(c).toMatchObject({
    authorizationMode: 'Webhook',
    authenticationTokenWebhook: true,
    kubeconfig: '/k',
  });
});

test('the server can be turned off, and bad values are refused', () => {
  expect(kubeletApiConfig({ 'enable-server': 'false' }, { rootDir: '/r' })).toBeUndefined();
  expect(() => kubeletApiConfig({ port: '70000' }, { rootDir: '/r' })).toThrow('--port=70000');
  expect(() => kubeletApiConfig({ 'anonymous-auth': 'yes' }, { rootDir: '/r' })).toThrow(
    '--anonymous-auth=yes',
  );
  expect(() => kubeletApiConfig({ 'authorization-mode': 'RBAC' }, { rootDir: '/r' })).toThrow(
    'AlwaysAllow or Webhook',
  );
});
