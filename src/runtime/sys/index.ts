// Every system call nodelet makes goes through this folder: koffi bindings with typed errors.
export { SysError, errnoName, isSysError, ERRNO } from './errors';
export { tryLockExclusive, unlock } from './file';
export * from './fsx';
export * from './monitor_proc';
export * from './creds';
export * from './caps';
export * from './seccomp';
export * from './libseccomp';
export * from './openat2';
export * from './namespace';
export * from './mount';
export * from './proc_exec';
export * from './tty';
export * from './rlimit_prctl';
export * from './streaming';
export * from './bpf';
export * from './fchdir';
export * from './netif';
