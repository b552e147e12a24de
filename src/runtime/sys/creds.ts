// Process identity: supplementary groups and real/effective/saved ids. glibc's wrappers are used on
// purpose: they change the ids of every thread of the process (the kernel's calls change only the
// caller's), so no Node helper thread keeps running as root behind the workload's back.
import { check, libc } from './libc';

const setgroupsFn = libc.func('int setgroups(size_t size, const uint32_t *list)');
const setresuidFn = libc.func('int setresuid(uint32_t ruid, uint32_t euid, uint32_t suid)');
const setresgidFn = libc.func('int setresgid(uint32_t rgid, uint32_t egid, uint32_t sgid)');

/** Replaces the supplementary group list; an empty list clears it. */
export function setGroups(gids: readonly number[]): void {
  const list = gids.length === 0 ? null : Uint32Array.from(gids);
  check('setgroups', setgroupsFn(gids.length, list) as number, `[${gids.join(',')}]`);
}

/** Sets the real, effective and saved uid at once, so no way back to the old uid is kept. */
export function setResUid(uid: number): void {
  check('setresuid', setresuidFn(uid, uid, uid) as number, String(uid));
}

export function setResGid(gid: number): void {
  check('setresgid', setresgidFn(gid, gid, gid) as number, String(gid));
}
