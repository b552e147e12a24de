import { checkRealm } from './registry_auth';

const hosts = { mirrors: {}, insecureRegistries: ['registry.lan:5000', 'plain.lan'] };
const allowed = (realm: string) => checkRealm(realm, 'registry.example', hosts).href;

describe("which token realms may receive a registry's credentials", () => {
  it('allows HTTPS realms on any host, as Docker Hub needs (auth.docker.io)', () => {
    expect(allowed('https://auth.docker.io/token')).toBe('https://auth.docker.io/token');
  });

  it('allows plain HTTP to loopback and to hosts listed in insecureRegistries', () => {
    for (const realm of [
      'http://127.0.0.1:5000/token',
      'http://localhost/token',
      'http://[::1]:8080/token',
      'http://registry.lan:5000/token',
      'http://plain.lan:9999/token',
    ]) {
      expect(allowed(realm)).toBe(realm);
    }
  });

  it('refuses plain HTTP to any other host, naming the realm', () => {
    expect(() => allowed('http://evil.example/token')).toThrow(
      /token realm 'http:\/\/evil\.example\/token' is plain HTTP.*nothing was sent/,
    );
    expect(() => allowed('http://registry.lan:5001/token')).toThrow(/is plain HTTP/);
  });

  it('refuses realms that are not HTTP(S) or not URLs, and a challenge without one', () => {
    expect(() => allowed('file:///etc/shadow')).toThrow(/is not HTTP\(S\)/);
    expect(() => allowed('gopher://x/')).toThrow(/is not HTTP\(S\)/);
    expect(() => allowed('/token')).toThrow(/is not a URL/);
    expect(() => checkRealm(undefined, 'registry.example', hosts)).toThrow(/has no realm/);
  });
});
