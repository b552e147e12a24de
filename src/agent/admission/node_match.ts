// Whether a pod may run on this node by its labels and taints, as the kubelet's predicate admit
// handler asks (k8s.io/component-helpers/scheduling/corev1): spec.nodeSelector and the required
// node affinity against the node's labels, and the node's NoExecute taints against the pod's
// tolerations. The scheduler checked the same before binding; the node checks again because labels
// and taints change, and a pod may be bound by hand (spec.nodeName).

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

interface Term {
  matchExpressions?: Requirement[];
  matchFields?: Requirement[];
}

function requirementMatches(r: Requirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      // Integers on both sides, else no match (labels.Requirement's Gt/Lt).
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0]))
        return false;
      const [have, want] = [BigInt(value), BigInt(values[0])];
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** A term matches when all its requirements do; a term with none matches no node. */
function termMatches(term: Term, node: NodeView): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return (
    exprs.every((r) => requirementMatches(r, node.labels[r.key])) &&
    // Only metadata.name is a node field the API allows here.
    fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.name))
  );
}

/** spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (any of its terms). */
export function matchesNodeAffinity(spec: Record<string, unknown>, node: NodeView): boolean {
  const selector = (spec.nodeSelector ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(selector)) if (node.labels[k] !== v) return false;
  const affinity = spec.affinity as
    | { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Term[] } } }
    | undefined;
  const required = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return (required.nodeSelectorTerms ?? []).some((t) => termMatches(t, node));
}

/** v1.Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  // An empty key with operator Exists tolerates everything.
  if (t.operator === 'Exists') return true;
  if (!t.operator || t.operator === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return false;
}

/** The first NoExecute taint of the node that none of the pod's tolerations tolerates. */
export function untoleratedNoExecute(spec: Record<string, unknown>, node: NodeView): Taint | undefined {
  const tolerations = (spec.tolerations ?? []) as Toleration[];
  return node.taints.find(
    (taint) => taint.effect === 'NoExecute' && !tolerations.some((t) => tolerates(t, taint)),
  );
}
