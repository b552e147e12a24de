// Checkpoint and restore of containers with CRIU.
export { dumpContainer } from './dump';
export type { DumpOptions } from './dump';
export { restoreContainer } from './restore';
export type { RestoreOptions } from './restore';
export * from './archive';
export { criuReason } from './criu';
