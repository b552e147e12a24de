// The rules of Kubernetes' built-in `system:node` ClusterRole, transcribed from NodeRules() in
// kubernetes/kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go (the rules that
// do not depend on a feature gate, plus those whose gates are on by default). nodelet's agent role
// must stay inside them.
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const read = ['get', 'list', 'watch'];
const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({
  apiGroups,
  resources,
  verbs,
});

export const SYSTEM_NODE_RULES: PolicyRule[] = [
  rule(['authentication.k8s.io'], ['tokenreviews'], ['create']),
  rule(['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews'], ['create']),
  rule([''], ['services'], read),
  rule([''], ['nodes'], ['create', 'get', 'list', 'watch']),
  rule([''], ['nodes/status'], ['update', 'patch']),
  rule([''], ['nodes'], ['update', 'patch']),
  rule([''], ['events'], ['create', 'update', 'patch']),
  rule([''], ['pods'], read),
  rule([''], ['pods'], ['create', 'delete']),
  rule([''], ['pods/status'], ['update', 'patch']),
  rule([''], ['pods/eviction'], ['create']),
  rule([''], ['secrets', 'configmaps'], read),
  rule([''], ['persistentvolumeclaims', 'persistentvolumes'], ['get']),
  rule([''], ['endpoints'], ['get']),
  rule(['certificates.k8s.io'], ['certificatesigningrequests'], ['create', 'get', 'list', 'watch']),
  rule(['coordination.k8s.io'], ['leases'], ['get', 'create', 'update', 'patch', 'delete']),
  rule(['storage.k8s.io'], ['volumeattachments'], ['get']),
  rule([''], ['persistentvolumeclaims/status'], ['get', 'update', 'patch']),
  rule([''], ['serviceaccounts/token'], ['create']),
  rule(['storage.k8s.io'], ['csidrivers'], read),
  rule(['storage.k8s.io'], ['csinodes'], ['get', 'create', 'update', 'patch', 'delete']),
  rule(['node.k8s.io'], ['runtimeclasses'], read),
];
