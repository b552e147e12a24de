import { credentialsFor, credentialsFromAuthConfig, parseChallenge } from './registry_auth';
import { endpointsFor } from './registry_hosts';

describe('registry endpoints', () => {
  const config = {
    mirrors: { 'registry.k8s.io': ['http://127.0.0.1:5000', 'mirror.example.com'] },
    insecureRegistries: ['plain.example:8080'],
  };

  it('tries the mirrors in order, then the upstream over HTTPS', () => {
    const eps = endpointsFor('registry.k8s.io', config);
    expect(eps.map((e) => [e.host, e.schemes, e.mirror])).toEqual([
      ['127.0.0.1:5000', ['http'], true],
      ['mirror.example.com', ['https'], true],
      ['registry.k8s.io', ['https'], false],
    ]);
  });

  it('serves Docker Hub from registry-1.docker.io', () => {
    expect(endpointsFor('docker.io', config).map((e) => e.host)).toEqual(['registry-1.docker.io']);
  });

  it('allows plain HTTP, after HTTPS, for insecure hosts and loopback only', () => {
    expect(endpointsFor('plain.example:8080', config)[0].schemes).toEqual(['https', 'http']);
    expect(endpointsFor('localhost:5000', config)[0].schemes).toEqual(['https', 'http']);
    expect(endpointsFor('[::1]:5000', config)[0].schemes).toEqual(['https', 'http']);
    expect(endpointsFor('quay.io', config)[0].schemes).toEqual(['https']);
  });

  it('refuses an http:// mirror that is neither insecure nor on loopback', () => {
    expect(() =>
      endpointsFor('docker.io', {
        mirrors: { 'docker.io': ['http://mirror.example.com'] },
        insecureRegistries: [],
      }),
    ).toThrow(/plain HTTP is allowed only/);
  });
});

describe('registry authentication', () => {
  it('parses a Bearer challenge with quoted parameters', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:a/b:pull',
      },
    });
  });

  it('decodes the auth field of a CRI AuthConfig into user and password', () => {
    const auth = Buffer.from('alice:s3:cret').toString('base64');
    expect(credentialsFromAuthConfig({ auth })).toEqual({ username: 'alice', password: 's3:cret' });
  });

  it('has no credentials for an empty AuthConfig', () => {
    expect(credentialsFromAuthConfig({ username: '', password: '' })).toBeUndefined();
  });

  it('sends credentials to a mirror only when they name it', () => {
    const creds = credentialsFromAuthConfig({
      username: 'u',
      password: 'p',
      server_address: 'https://mirror.example.com',
    });
    expect(credentialsFor(creds, 'mirror.example.com', true)).toBe(creds);
    expect(credentialsFor(creds, 'other.example.com', true)).toBeUndefined();
    expect(credentialsFor(creds, 'registry.example.com', false)).toBe(creds);
  });
});
