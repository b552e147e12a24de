// The bindings the container engine's helper processes need, and nothing else: the init loads
// this instead of the whole sys index, so it starts faster and does not depend on bindings of
// other parts (every koffi declaration is resolved at load time).
export { SysError, errnoName, isSysError, ERRNO } from './errors';
export * from './namespace';
export * from './mount';
export * from './proc_exec';
export * from './tty';
export * from './rlimit_prctl';
