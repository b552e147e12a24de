// The kubelet API's paths (pkg/kubelet/server/server.go), matched to what they serve. Kept apart
// from the server so the table can be read, and tested, on its own.
import type { PodRef } from './resolve';

export type Route =
  | { kind: 'healthz' }
  | { kind: 'pods' }
  | { kind: 'runningPods' }
  | { kind: 'containerLogs'; pod: PodRef; container: string }
  | { kind: 'exec' | 'attach'; pod: PodRef; container: string }
  | { kind: 'portForward'; pod: PodRef }
  | { kind: 'summary' }
  | { kind: 'metrics' | 'metricsCadvisor' | 'metricsResource' | 'metricsProbes' }
  | { kind: 'configz' }
  | { kind: 'checkpoint'; pod: PodRef; container: string }
  | { kind: 'notImplemented'; what: string };

const STREAM_METHODS = ['GET', 'POST'];

/** The route of a request, 'method' when the path exists but not for this method, undefined when unknown. */
export function matchRoute(method: string, pathname: string): Route | 'method' | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [head, ...rest] = parts;
  const getOnly = (route: Route) => (method === 'GET' || method === 'HEAD' ? route : 'method');
  const streams = (route: Route) => (STREAM_METHODS.includes(method) ? route : 'method');
  switch (head) {
    case 'healthz':
      return rest.length <= 1 ? getOnly({ kind: 'healthz' }) : undefined;
    case 'pods':
      return rest.length === 0 ? getOnly({ kind: 'pods' }) : undefined;
    case 'containerLogs':
      if (rest.length !== 3) return undefined;
      return getOnly({
        kind: 'containerLogs',
        pod: { namespace: rest[0], name: rest[1] },
        container: rest[2],
      });
    case 'exec':
    case 'attach': {
      if (rest.length !== 3 && rest.length !== 4) return undefined;
      const pod: PodRef = {
        namespace: rest[0],
        name: rest[1],
        ...(rest.length === 4 ? { uid: rest[2] } : {}),
      };
      return streams({ kind: head, pod, container: rest[rest.length - 1] });
    }
    case 'portForward': {
      if (rest.length !== 2 && rest.length !== 3) return undefined;
      return streams({
        kind: 'portForward',
        pod: { namespace: rest[0], name: rest[1], ...(rest.length === 3 ? { uid: rest[2] } : {}) },
      });
    }
    case 'stats':
      if (rest.length === 1 && rest[0] === 'summary') return getOnly({ kind: 'summary' });
      return rest.length === 0
        ? getOnly({ kind: 'notImplemented', what: 'the /stats root (use /stats/summary)' })
        : undefined;
    case 'metrics':
      if (rest.length === 0) return getOnly({ kind: 'metrics' });
      if (rest.length === 1 && rest[0] === 'cadvisor') return getOnly({ kind: 'metricsCadvisor' });
      if (rest.length === 1 && rest[0] === 'resource') return getOnly({ kind: 'metricsResource' });
      if (rest.length === 1 && rest[0] === 'probes') return getOnly({ kind: 'metricsProbes' });
      return undefined;
    case 'configz':
      return rest.length === 0 ? getOnly({ kind: 'configz' }) : undefined;
    case 'runningpods':
      return rest.length === 0 ? getOnly({ kind: 'runningPods' }) : undefined;
    case 'checkpoint':
      // The kubelet's forensic checkpoint: POST /checkpoint/<namespace>/<pod>/<container>.
      if (rest.length !== 3) return undefined;
      return method === 'POST'
        ? { kind: 'checkpoint', pod: { namespace: rest[0], name: rest[1] }, container: rest[2] }
        : 'method';
    case 'run':
    case 'logs':
    case 'debug':
      return { kind: 'notImplemented', what: `/${head}` };
    default:
      return undefined;
  }
}
