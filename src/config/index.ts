export { loadDaemonConfig, parseDaemonConfig } from './load';
export { configReferenceMarkdown } from './reference';
export { DAEMON_FLAGS, DEFAULT_CONFIG_FILE, daemonConfigSchema } from './schema';
export type { DaemonConfig, DaemonConfigInput } from './schema';
