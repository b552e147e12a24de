// The monitor's public surface. The daemon uses the client; the monitor process itself is
// main.ts, started by ensureMonitor() (or `nodelet monitor`).
export { ensureMonitor, MonitorClient, type EnsureMonitorOptions } from './client';
export { monitorSocketPath, PROTOCOL_VERSION } from './protocol';
export type { ContainerInfo, ContainerState, CreateParams, ExecSyncParams, ExecSyncResult } from './protocol';
export type { ExitRecord } from './records';
export { formatTimestamp, MAX_LOG_LINE_BYTES } from './cri_log';
export type { Launcher, LaunchedProcess, ExecTarget, ExecProcess } from './launcher';
