// Who the container process runs as: the CRI's run_as_user / run_as_username / run_as_group, or
// else the image's USER ("u[:g]"), resolved in the IMAGE's /etc/passwd and /etc/group. The
// supplementary groups follow the CRI's SupplementalGroupsPolicy:
//   Merge  — the primary gid, the groups the image's /etc/group lists the user in, and the pod's
//            supplemental groups (Kubernetes' default);
//   Strict — the primary gid and the pod's supplemental groups only.
import type { LinuxContainerUser } from '../../gen/runtime/v1/LinuxContainerUser';
import type { UserSpec } from '../spec';
import { invalidArgument } from '../../common/errors';
import { parseGroup, parsePasswd, readFileInRoot, type GroupEntry, type PasswdEntry } from './etc_files';

export type SupplementalGroupsPolicy = 'Merge' | 'Strict';

export interface UserRequest {
  runAsUser?: number;
  runAsGroup?: number;
  runAsUsername?: string;
  supplementalGroups: number[];
  policy: SupplementalGroupsPolicy;
  /** The image config's User: "", "name", "uid", "name:group", "uid:gid". */
  imageUser?: string;
}

const MAX_ID = 0xfffffffe; // (uid_t)-1 means "unchanged" to the kernel

function checkId(kind: string, id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) {
    throw invalidArgument(`Cannot run the container as ${kind} ${id}: not a valid id`);
  }
  return id;
}

/** The image's /etc/passwd and /etc/group ('' when absent), read when first asked for. */
export interface EtcFiles {
  passwd(): string;
  group(): string;
}

export function etcFilesIn(rootfsDir: string): EtcFiles {
  return {
    passwd: () => readFileInRoot(rootfsDir, 'etc/passwd'),
    group: () => readFileInRoot(rootfsDir, 'etc/group'),
  };
}

/** `source`: the image's root, or its files already read (an image's layers never change). */
export function resolveUser(source: string | EtcFiles, req: UserRequest): UserSpec {
  const files = typeof source === 'string' ? etcFilesIn(source) : source;
  if (req.runAsGroup !== undefined && req.runAsUser === undefined && !req.runAsUsername) {
    throw invalidArgument(
      'Cannot run the container with run_as_group: it needs run_as_user or run_as_username',
    );
  }
  let users: PasswdEntry[] | undefined;
  let groups: GroupEntry[] | undefined;
  const passwd = () => (users ??= parsePasswd(files.passwd()));
  const group = () => (groups ??= parseGroup(files.group()));

  const byName = (name: string): PasswdEntry => {
    const entry = passwd().find((u) => u.name === name);
    if (!entry) {
      throw invalidArgument(
        `Cannot run the container as user '${name}': no such user in the image's /etc/passwd`,
      );
    }
    return entry;
  };

  let uid: number;
  let gid: number;
  let entry: PasswdEntry | undefined;
  if (req.runAsUsername) {
    entry = byName(req.runAsUsername);
    uid = entry.uid;
    gid = entry.gid;
  } else if (req.runAsUser !== undefined) {
    uid = checkId('uid', req.runAsUser);
    entry = passwd().find((u) => u.uid === uid);
    gid = entry?.gid ?? 0;
  } else {
    const [userPart = '', groupPart = ''] = (req.imageUser ?? '').split(':', 2);
    if (userPart !== '' && !/^\d+$/.test(userPart)) {
      entry = byName(userPart);
      uid = entry.uid;
    } else {
      uid = userPart === '' ? 0 : checkId('uid', Number(userPart));
      entry = passwd().find((u) => u.uid === uid);
    }
    gid = entry?.gid ?? 0;
    if (groupPart !== '') gid = imageGroup(groupPart, group());
  }
  if (req.runAsGroup !== undefined) gid = checkId('gid', req.runAsGroup);

  const extra = req.supplementalGroups.map((g) => checkId('supplemental gid', g));
  const fromImage =
    req.policy === 'Merge' && entry
      ? group()
          .filter((g) => g.members.includes(entry.name))
          .map((g) => g.gid)
      : [];
  const additionalGids = [...new Set([gid, ...extra, ...fromImage])].sort((a, b) => a - b);
  return { uid, gid, additionalGids, ...(entry ? { username: entry.name } : {}) };
}

function imageGroup(groupPart: string, groups: GroupEntry[]): number {
  if (/^\d+$/.test(groupPart)) return checkId('gid', Number(groupPart));
  const found = groups.find((g) => g.name === groupPart);
  if (!found) {
    throw invalidArgument(
      `Cannot run the container as group '${groupPart}': no such group in the image's /etc/group`,
    );
  }
  return found.gid;
}

/** ContainerStatus.user as the CRI reports it. */
export function containerUserStatus(user: UserSpec): { linux: LinuxContainerUser } {
  return {
    linux: {
      uid: String(user.uid),
      gid: String(user.gid),
      supplemental_groups: user.additionalGids.map(String),
    },
  };
}
