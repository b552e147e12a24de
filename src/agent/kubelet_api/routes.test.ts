import { requestAttributes } from './auth';
import { matchRoute } from './routes';

describe('matchRoute', () => {
  it('finds the streaming paths with and without the pod UID', () => {
    expect(matchRoute('POST', '/exec/ns/pod/c')).toEqual({
      kind: 'exec',
      pod: { namespace: 'ns', name: 'pod' },
      container: 'c',
    });
    expect(matchRoute('GET', '/attach/ns/pod/uid-1/c')).toEqual({
      kind: 'attach',
      pod: { namespace: 'ns', name: 'pod', uid: 'uid-1' },
      container: 'c',
    });
    expect(matchRoute('GET', '/portForward/ns/pod')).toEqual({
      kind: 'portForward',
      pod: { namespace: 'ns', name: 'pod' },
    });
  });

  it('serves the read-only endpoints to GET only', () => {
    expect(matchRoute('GET', '/containerLogs/ns/pod/c')).toMatchObject({
      kind: 'containerLogs',
      container: 'c',
    });
    expect(matchRoute('GET', '/stats/summary')).toEqual({ kind: 'summary' });
    expect(matchRoute('GET', '/metrics/resource')).toEqual({ kind: 'metricsResource' });
    expect(matchRoute('POST', '/pods')).toBe('method');
    expect(matchRoute('DELETE', '/exec/ns/pod/c')).toBe('method');
  });

  it('has the runtime view of running pods', () => {
    expect(matchRoute('GET', '/runningpods/')).toEqual({ kind: 'runningPods' });
  });

  it('checkpoints a container on POST only', () => {
    expect(matchRoute('POST', '/checkpoint/ns/pod/c')).toEqual({
      kind: 'checkpoint',
      pod: { namespace: 'ns', name: 'pod' },
      container: 'c',
    });
    expect(matchRoute('GET', '/checkpoint/ns/pod/c')).toBe('method');
    expect(matchRoute('POST', '/checkpoint/ns/pod')).toBeUndefined();
  });

  it('says what is not built rather than pretending', () => {
    expect(matchRoute('POST', '/run/ns/pod/c')).toEqual({ kind: 'notImplemented', what: '/run' });
    expect(matchRoute('GET', '/logs/syslog')).toEqual({ kind: 'notImplemented', what: '/logs' });
  });

  it('serves the probe metrics and the configuration to GET', () => {
    expect(matchRoute('GET', '/metrics/probes')).toEqual({ kind: 'metricsProbes' });
    expect(matchRoute('GET', '/configz')).toEqual({ kind: 'configz' });
    expect(matchRoute('POST', '/configz')).toBe('method');
    expect(matchRoute('GET', '/configz/more')).toBeUndefined();
  });

  it('knows nothing of other paths', () => {
    expect(matchRoute('GET', '/nope')).toBeUndefined();
    expect(matchRoute('GET', '/exec/ns')).toBeUndefined();
  });
});

describe('requestAttributes', () => {
  const subresources = (method: string, path: string) =>
    requestAttributes(method, path, 'n1').map((a) => a.subresource);

  it('maps paths to the subresources the API server authorizes, verbs from the method', () => {
    expect(requestAttributes('GET', '/stats/summary', 'n1')).toEqual([
      { verb: 'get', resource: 'nodes', subresource: 'stats', name: 'n1', path: '/stats/summary' },
    ]);
    expect(subresources('GET', '/metrics/cadvisor')).toEqual(['metrics']);
    expect(subresources('GET', '/metrics/probes')).toEqual(['metrics']);
    expect(subresources('GET', '/logs/syslog')).toEqual(['log']);
    expect(requestAttributes('POST', '/exec/a/b/c', 'n1')).toMatchObject([
      { verb: 'create', subresource: 'proxy' },
    ]);
    expect(subresources('GET', '/containerLogs/a/b/c')).toEqual(['proxy']);
  });

  it('tries the narrow subresource of /configz, /healthz, /pods and /runningpods before proxy, as the kubelet', () => {
    expect(subresources('GET', '/configz')).toEqual(['configz', 'proxy']);
    expect(subresources('GET', '/healthz')).toEqual(['healthz', 'proxy']);
    expect(subresources('GET', '/pods')).toEqual(['pods', 'proxy']);
    expect(subresources('GET', '/runningpods/')).toEqual(['pods', 'proxy']);
    expect(subresources('GET', '/podsandmore')).toEqual(['proxy']);
  });
});
