// CDI (Container Device Interface) devices: spec files, their names, and the edits they make.
export { CdiSpecDirs, DEFAULT_CDI_SPEC_DIRS } from './cache';
export { applyCdiEdits, resolveCdiDevices, type CdiEditSet } from './edits';
export { requestedDevices, CDI_ANNOTATION_PREFIX } from './names';
export { loadCdiRegistry, parseCdiSpec, type CdiRegistry } from './registry';
