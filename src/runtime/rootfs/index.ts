// Root filesystem: building a container's root in its mount namespace, and host-side cleanup.
export { prepareRoot, enterRoot } from './build';
export { cleanupContainerRoot, mountsUnder } from './cleanup';
export { resolveInRoot } from './path';
export { parseMountOptions } from './options';
export type { RootfsSys } from './rootfs_sys';
export { premadeIdmappedMounts, closePremade } from './idmapped';
export type { PremadeMounts } from './idmapped';
