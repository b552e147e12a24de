// What `kubectl apply` of manifests/ would do on a real cluster, asked of a real kube-apiserver with a
// server-side dry run: schema validation, defaulting, admission and RBAC's escalation check, without
// persisting anything.
import { ControlPlane, controlPlaneInstalled, startControlPlane } from '../../support/control_plane';
import { filesUnder, MANIFESTS } from './support';
import path from 'node:path';

// The Prometheus Operator's kinds exist only where the Operator is installed. This stand-in CRD
// makes the API server accept them with their object structure checked, not their spec: the real
// CRD (thousands of lines) is not in the Debian archive or the Go module proxy.
const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    names: {
      kind: 'ServiceMonitor',
      plural: 'servicemonitors',
      singular: 'servicemonitor',
      listKind: 'ServiceMonitorList',
    },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
};

// Files of manifests/ that are not Kubernetes objects.
const NOT_OBJECTS = ['manifests/kind/nodelet-config.yaml', 'manifests/monitoring/prometheus.yml'];
const objectFiles = filesUnder(MANIFESTS, ['.yaml', '.yml']).filter(
  (f) => !NOT_OBJECTS.includes(f) && !f.startsWith('manifests/monitoring/nodelet-alerts'),
);

const describeIfInstalled = controlPlaneInstalled() ? describe : describe.skip;

describeIfInstalled('manifests/ applied to a real API server (server-side dry run)', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane();
    const crd = await cp.kubectl(['apply', '-f', '-'], JSON.stringify(SERVICE_MONITOR_CRD));
    expect(crd.stderr).toBe('');
    const established = await cp.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      `crd/${SERVICE_MONITOR_CRD.metadata.name}`,
    ]);
    expect(established.stderr).toBe('');
    // Pods that name the RuntimeClass are admitted only once it exists, so an operator applies it
    // first; so does this test, for real.
    const runtimeClass = await cp.kubectl(['apply', '-f', path.join(MANIFESTS, 'runtimeclass.yaml')]);
    expect(runtimeClass.stderr).toBe('');
  }, 240_000);

  afterAll(async () => {
    await cp?.stop();
  });

  test.each(objectFiles)('%s is accepted', async (file) => {
    const res = await cp.kubectl(['apply', '--dry-run=server', '-f', path.join(MANIFESTS, '..', file)]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\(server dry run\)/);
  });
});
