// Container logs as the kubelet keeps them: rotation by size and count through ReopenContainerLog,
// the /var/log/containers links, and the series of files `kubectl logs` reads.
export { ContainerLogClient } from './cri';
export type { ContainerLogRuntime } from './cri';
export { containerLogFiles, isCompressed, openLogStream } from './files';
export { logLinkPath } from './links';
export { startContainerLogManager } from './manager';
export type { ContainerLogManager, ContainerLogOptions } from './manager';
export {
  DEFAULT_LOG_MONITOR_INTERVAL_MS,
  DEFAULT_LOG_ROTATION,
  MIN_LOG_MONITOR_INTERVAL_MS,
  parseLogRotationPolicy,
} from './policy';
export type { LogRotationPolicy } from './policy';
export { withContainerLogs } from './runtime_hooks';
