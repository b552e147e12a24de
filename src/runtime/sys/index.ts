// Every system call nodelet makes goes through this folder: koffi bindings with typed errors.
export { SysError, errnoName, isSysError, ERRNO } from './errors';
export { tryLockExclusive, unlock } from './file';
