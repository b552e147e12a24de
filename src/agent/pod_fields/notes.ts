// A word on the fields whose row needs more than honoured / accepted / refused: a path of the
// table (`containers[].image`), what the agent does, and a status when the schema alone says
// otherwise (a field it takes but another check refuses). A note naming no field fails the test.
import type { FieldStatus } from './fields';

export interface FieldNote {
  status?: FieldStatus;
  note: string;
}

export const FIELD_NOTES: Record<string, FieldNote> = {
  activeDeadlineSeconds: { note: 'the pod fails with `DeadlineExceeded`' },
  containers: { note: 'started in parallel after the init containers' },
  'containers[].env[].valueFrom.configMapKeyRef': { note: 'connected mode (read from the API)' },
  'containers[].env[].valueFrom.secretKeyRef': { note: 'connected mode (read from the API)' },
  'containers[].envFrom[].configMapRef': { note: 'connected mode (read from the API)' },
  'containers[].envFrom[].secretRef': { note: 'connected mode (read from the API)' },
  'containers[].imagePullPolicy': { note: 'default `Always` for `:latest`, else `IfNotPresent`' },
  'containers[].lifecycle.postStart': { note: 'a failure kills the container (`FailedPostStartHook`)' },
  'containers[].lifecycle.preStop': { note: 'run within the grace period before StopContainer' },
  'containers[].ports[].hostPort': { note: "the runtime's port mappings" },
  'containers[].resizePolicy': {
    note: 'in-place resize: `NotRequired` through UpdateContainerResources, `RestartContainer` restarts',
  },
  'containers[].resources': { note: 'resizable in place (docs/agent.md, In-place resize)' },
  'containers[].resources.claims': {
    status: 'refused',
    note: 'dynamic resource allocation: only an empty list is taken',
  },
  'containers[].resources.limits': { note: 'cgroup limits through the CRI; QoS class' },
  'containers[].resources.requests': { note: 'cpu shares; QoS class' },
  'containers[].terminationMessagePolicy': { note: '`FallbackToLogsOnError` reads the log tail' },
  'containers[].volumeMounts[].mountPropagation': { note: 'passed to the runtime as the mount propagation' },
  dnsPolicy: { note: 'with `--cluster-dns`/`--cluster-domain` (docs/agent.md, Pod DNS)' },
  enableServiceLinks: { note: 'connected mode: Service variables from the Service informer' },
  hostUsers: { note: '`false`: a user namespace with a host id range of its own' },
  imagePullSecrets: { note: 'connected mode: read from the API for the pulls' },
  initContainers: { note: 'one at a time, in order; `restartPolicy: Always` makes a sidecar' },
  'initContainers[].restartPolicy': { note: '`Always`: a native sidecar, kept running and stopped last' },
  readinessGates: { note: "the pod is Ready once the gates' conditions (set by others) are True" },
  'securityContext.fsGroup': { note: 'supplementary group of the containers' },
  'securityContext.sysctls': { note: 'safe sysctls, and those of `--allowed-unsafe-sysctls`' },
  'volumes[].configMap': { note: 'connected mode: the API object, refreshed every `--sync-frequency`' },
  'volumes[].image': {
    note: 'pulled before the container with its pull policy; mounted read-only by the runtime (subPath inside the image)',
  },
  'volumes[].persistentVolumeClaim': {
    status: 'refused',
    note: 'schema takes it; the pod fails: PVC volumes are not implemented',
  },
  'volumes[].projected': { note: 'connected mode: service account token, configMap, secret, downward API' },
  'volumes[].secret': { note: 'connected mode: the API object, refreshed every `--sync-frequency`' },
};
