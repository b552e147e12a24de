// The image subsystem's public surface: references, pulls, the image store and snapshots.
export { Images, DEFAULT_REGISTRY_SETTINGS } from './images';
export type { ImagesOptions, RegistrySettings } from './images';
export type { ImageRecord, LayerRecord } from './image_store';
export type { ImageConfig } from './manifest';
export type { GcResult } from './gc';
export type { PullProgress } from './puller';
export { credentialsFromAuthConfig } from './registry_auth';
export type { Credentials } from './registry_auth';
export { parseReference, formatReference, tryParseReference } from './reference';
export type { ImageRef } from './reference';
export { importArchive } from './archive_import';
export type { ImportOptions } from './archive_import';
export { exportImages } from './archive_export';
