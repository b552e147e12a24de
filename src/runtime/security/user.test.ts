import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerUserStatus, resolveUser } from './user';

// The image critest's SupplementalGroupsPolicy specs use (cri-tools images/image-predefined-group).
const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\ndefault-user:x:1000:1000::/home/default-user:/bin/sh\n';
const GROUP =
  'root:x:0:\nwww-data:x:33:\ndefault-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\ngid1004:x:1004:\n';

describe('resolveUser', () => {
  let root: string;
  let outside: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-user-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-user-host-'));
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc/passwd'), PASSWD);
    fs.writeFileSync(path.join(root, 'etc/group'), GROUP);
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('merges the image’s groups with the pod’s supplemental groups under Merge', () => {
    const user = resolveUser(root, { runAsUser: 1000, supplementalGroups: [1234], policy: 'Merge' });
    expect(user).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 1234, 50000],
      username: 'default-user',
    });
    expect(containerUserStatus(user)).toEqual({
      linux: { uid: '1000', gid: '1000', supplemental_groups: ['1000', '1234', '50000'] },
    });
  });

  it('ignores the image’s /etc/group under Strict', () => {
    const user = resolveUser(root, { runAsUser: 1000, supplementalGroups: [1234], policy: 'Strict' });
    expect(user.additionalGids).toEqual([1000, 1234]);
  });

  it('resolves run_as_username in the image’s /etc/passwd', () => {
    const user = resolveUser(root, { runAsUsername: 'www-data', supplementalGroups: [], policy: 'Merge' });
    expect(user).toMatchObject({ uid: 33, gid: 33, username: 'www-data' });
  });

  it('fails clearly for a username the image does not have', () => {
    expect(() =>
      resolveUser(root, { runAsUsername: 'nobody', supplementalGroups: [], policy: 'Merge' }),
    ).toThrow("Cannot run the container as user 'nobody': no such user in the image's /etc/passwd");
  });

  it('uses gid 0 for a uid the image does not list, and run_as_group when given', () => {
    expect(resolveUser(root, { runAsUser: 1001, supplementalGroups: [], policy: 'Merge' })).toEqual({
      uid: 1001,
      gid: 0,
      additionalGids: [0],
    });
    const user = resolveUser(root, {
      runAsUser: 1001,
      runAsGroup: 1002,
      supplementalGroups: [],
      policy: 'Merge',
    });
    expect(user).toMatchObject({ uid: 1001, gid: 1002 });
  });

  it('rejects run_as_group without run_as_user', () => {
    expect(() => resolveUser(root, { runAsGroup: 1002, supplementalGroups: [], policy: 'Merge' })).toThrow(
      /run_as_group: it needs run_as_user or run_as_username/,
    );
  });

  it('falls back to the image’s USER, by name or number, with an optional group', () => {
    const base = { supplementalGroups: [], policy: 'Merge' as const };
    expect(resolveUser(root, { ...base, imageUser: '' })).toMatchObject({ uid: 0, gid: 0, username: 'root' });
    expect(resolveUser(root, { ...base, imageUser: '1003:1004' })).toMatchObject({ uid: 1003, gid: 1004 });
    expect(resolveUser(root, { ...base, imageUser: 'www-data:gid1004' })).toMatchObject({
      uid: 33,
      gid: 1004,
    });
    expect(() => resolveUser(root, { ...base, imageUser: 'www-data:nogroup' })).toThrow(/no such group/);
  });

  it('never reads a host file through a symlink in the image', () => {
    const hostPasswd = path.join(outside, 'passwd');
    fs.writeFileSync(hostPasswd, 'intruder:x:4242:4242::/:/bin/sh\n');
    const evil = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-user-evil-'));
    try {
      fs.mkdirSync(path.join(evil, 'etc'));
      fs.symlinkSync(`/../../../..${hostPasswd}`, path.join(evil, 'etc/passwd'));
      expect(() =>
        resolveUser(evil, { runAsUsername: 'intruder', supplementalGroups: [], policy: 'Merge' }),
      ).toThrow(/no such user/);
    } finally {
      fs.rmSync(evil, { recursive: true, force: true });
    }
  });
});
