export type * from './types';
export { SECCOMP_ACTIONS, SECCOMP_OPERATORS } from './types';
export {
  defaultSpec,
  DEFAULT_MOUNTS,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  DEFAULT_PATH,
} from './defaults';
export type { DefaultSpecOptions } from './defaults';
