// What the node registers itself with besides its facts: --node-labels and --register-with-taints.
// Both apply when the Node is created, as in the kubelet (an existing Node keeps what it has). A node
// may set on itself only the kubernetes.io labels the NodeRestriction admission plugin lets a kubelet
// set: the kubelet refuses to start with any other, and so does the agent (k8s.io/kubelet/pkg/apis).

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export class NodeRegistrationError extends Error {}

const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];
const KUBELET_LABELS = [
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
];

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const namespaceOf = (key: string) => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '');

function isKubernetesLabel(key: string): boolean {
  const ns = namespaceOf(key);
  return ['kubernetes.io', 'k8s.io'].some((d) => ns === d || ns.endsWith(`.${d}`));
}

/** A label the kubelet may set on its own Node (kubelet.kubernetes.io/*, node.kubernetes.io/*, or the list). */
export function isKubeletLabel(key: string): boolean {
  const ns = namespaceOf(key);
  return (
    KUBELET_LABELS.includes(key) ||
    KUBELET_LABEL_NAMESPACES.some((allowed) => ns === allowed || ns.endsWith(`.${allowed}`))
  );
}

function checkLabelKey(key: string, what: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (!NAME.test(name) || (slash >= 0 && (!SUBDOMAIN.test(prefix) || prefix.length > 253)))
    throw new NodeRegistrationError(`Cannot use ${what}: '${key}' is not a valid label key`);
}

/** --node-labels `k=v,k2=v2`: checked for syntax and for the labels a node may not set on itself. */
export function parseNodeLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').filter((p) => p.trim())) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new NodeRegistrationError(`Cannot use --node-labels: '${pair}' is not key=value`);
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    checkLabelKey(key, '--node-labels');
    if (value !== '' && !NAME.test(value))
      throw new NodeRegistrationError(`Cannot use --node-labels: '${value}' is not a valid label value`);
    labels[key] = value;
  }
  const refused = Object.keys(labels).filter((k) => isKubernetesLabel(k) && !isKubeletLabel(k));
  if (refused.length > 0)
    throw new NodeRegistrationError(
      `unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [${refused.join(' ')}]; ` +
        `--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix ` +
        `(${KUBELET_LABEL_NAMESPACES.join(', ')}) or be in the specifically allowed set (${KUBELET_LABELS.join(', ')})`,
    );
  return labels;
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** --register-with-taints `key=value:Effect,key:Effect`, as the kubelet's flag. */
export function parseTaints(text: string | undefined): Taint[] {
  return (text ?? '')
    .split(',')
    .filter((t) => t.trim())
    .map((spec) => {
      const colon = spec.lastIndexOf(':');
      const effect = colon >= 0 ? spec.slice(colon + 1).trim() : '';
      if (!EFFECTS.includes(effect))
        throw new NodeRegistrationError(
          `Cannot use --register-with-taints: '${spec}' needs an effect of ${EFFECTS.join(', ')} (key=value:Effect)`,
        );
      const kv = spec.slice(0, colon).trim();
      const eq = kv.indexOf('=');
      const key = eq >= 0 ? kv.slice(0, eq) : kv;
      const value = eq >= 0 ? kv.slice(eq + 1) : undefined;
      checkLabelKey(key, '--register-with-taints');
      if (value !== undefined && value !== '' && !NAME.test(value))
        throw new NodeRegistrationError(
          `Cannot use --register-with-taints: '${value}' is not a valid taint value`,
        );
      return { key, ...(value ? { value } : {}), effect: effect as Taint['effect'] };
    });
}
