// The monitor's public surface, for the daemon.
//
//   daemon ──ensureMonitor()──> keeper (subreaper; restarts the monitor) ──> monitor ──> containers
//
// - ensureMonitor({ runDir, log }) connects to <runDir>/monitor.sock or starts the keeper, which
//   starts `node dist/monitor/main.js` (also `nodelet monitor`); the client reconnects by itself
//   and emits 'reconnect' (call list() then) and 'exit' (id, ExitRecord) events.
// - Each container: <runDir>/containers/<id>/{state.json, exit.json, stdout, stderr[, stdin]}.
//   exit.json is on disk before any 'exit' event; list()/status() return it after any restart.
// - Exit codes: real while the monitor or the keeper was the parent; 255 with reason "Unknown"
//   when neither was (a monitor killed while no keeper ran).
// - Create returns the pid before the workload runs: join it to cgroups, then start().
// - MonitorAttach.open(runDir, id, { stdin, stdout?, stderr? }) attaches to a container's main
//   process through <runDir>/attach.sock: its output as the monitor reads it (FIFOs or the pty
//   master it holds), its stdin (stdin_once: closed when the first stdin client leaves), resize.
export { ensureMonitor, MonitorClient, type EnsureMonitorOptions } from './client';
export { MonitorAttach, type AttachEnd, type AttachStreams } from './attach_client';
export { monitorSocketPath, PROTOCOL_VERSION } from './protocol';
export type { ContainerInfo, ContainerState, CreateParams, ExecSyncParams, ExecSyncResult } from './protocol';
export type { ExitRecord } from './records';
export { formatTimestamp, MAX_LOG_LINE_BYTES } from './cri_log';
export type { Launcher, LaunchedProcess, ExecTarget, ExecProcess } from './launcher';
