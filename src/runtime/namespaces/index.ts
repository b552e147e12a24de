// Namespaces: entering them around a spawn, pinning pod namespaces, the pod PID namespace init.
export { runInNamespaces } from './enter';
export type { NamespacePlan } from './enter';
export { pinNamespaces, unpinNamespaces, podNamespaceDir } from './pin';
export type { PinnedNamespaces } from './pin';
export { startPidNamespaceInit, CATATONIT, PID_INIT_MARK } from './pid_init';
export type { PidNamespaceInit } from './pid_init';
export { containerNamespacePlan, execNamespacePlan, execUserNamespace } from './plan';
export { idMapText, inUserNamespace, pinPodUserNamespace } from './userns';
export type { UserNamespaceMappings } from './userns';
