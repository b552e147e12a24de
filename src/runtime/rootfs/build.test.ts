import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultSpec } from '../spec/defaults';
import { MOUNT_ATTR_RDONLY, MS_BIND, MS_RDONLY, MS_REC, MS_SLAVE } from '../sys/mount';
import { AT_FDCWD, O_PATH, openat2 } from '../sys/openat2';
import { prepareRoot } from './build';
import { fdPath } from './in_root';
import type { BindOptions, NodeKind, RootfsSys } from './rootfs_sys';

/** Records kernel calls; device nodes become plain files so the rest of the build can go on. */
class RecordingSys implements RootfsSys {
  calls: string[] = [];
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string): void {
    this.calls.push(
      `mount ${this.name(source)} ${this.name(target)} ${fstype} 0x${flags.toString(16)}${data ? ` ${data}` : ''}`,
    );
  }
  mountSetattr(p: string, set: number, _clear: number, recursive: boolean): void {
    this.calls.push(`setattr ${this.rel(p)} ${set}${recursive ? ' recursive' : ''}`);
  }
  bindTree(source: string | number, targetFd: number, options: BindOptions): number {
    const src = typeof source === 'number' ? this.name(fdPath(source)) : source;
    const target = this.name(fdPath(targetFd));
    this.calls.push(
      `bind ${src} ${target}${options.recursive ? ' rec' : ''} set=${options.set} rset=${options.recursiveSet}`,
    );
    return openat2(AT_FDCWD, fs.readlinkSync(fdPath(targetFd)), O_PATH, 0);
  }
  attachTree(mountFd: number, targetFd: number): void {
    this.calls.push(`attach fd ${mountFd} ${this.name(fdPath(targetFd))}`);
  }
  makeNode(dirFd: number, name: string, kind: NodeKind, major: number, minor: number): number {
    const file = path.join(fs.readlinkSync(fdPath(dirFd)), name);
    fs.writeFileSync(file, '');
    this.calls.push(`mknod ${this.rel(file)} ${kind} ${major}:${minor}`);
    return openat2(AT_FDCWD, file, O_PATH, 0);
  }
  pivotInto(root: string): void {
    this.calls.push(`pivot ${root}`);
  }
  setHostname(name: string): void {
    this.calls.push(`hostname ${name}`);
  }
  constructor(private readonly root: string) {}
  /** A path, or what a /proc/self/fd/N link names, relative to the root. */
  private name(p: string | null): string | null {
    if (p === null || !p.startsWith('/proc/self/fd/')) return p === null ? null : this.rel(p);
    return this.rel(fs.readlinkSync(p));
  }
  private rel(p: string): string {
    return p.startsWith(this.root) ? `<root>${p.slice(this.root.length)}` : p;
  }
}

let tmp: string;
let root: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-build-'));
  root = path.join(tmp, 'merged');
});

afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the overlay root, the default mounts and /dev come first, then masks, then the read-only root', () => {
  const spec = defaultSpec({
    id: 'c',
    rootPath: root,
    readonlyRoot: true,
    args: ['sh'],
    overlay: { lowerDirs: [`${tmp}/l2`, `${tmp}/l1`], upperDir: `${tmp}/up`, workDir: `${tmp}/work` },
  });
  const sys = new RecordingSys(root);
  prepareRoot(spec, sys);
  expect(sys.calls[0]).toBe(`mount null / null 0x${(MS_REC | MS_SLAVE).toString(16)}`);
  expect(sys.calls[1]).toBe(
    `mount overlay <root> overlay 0x0 lowerdir=${tmp}/l2:${tmp}/l1,upperdir=${tmp}/up,workdir=${tmp}/work`,
  );
  expect(sys.calls.filter((c) => c.startsWith('mount ')).map((c) => c.split(' ')[2])).toEqual([
    '/',
    '<root>',
    '<root>/proc',
    '<root>/dev',
    '<root>/dev/pts',
    '<root>/dev/shm',
    '<root>/dev/mqueue',
    '<root>/sys',
  ]);
  expect(sys.calls).toContain('mknod <root>/dev/null char 1:3');
  expect(fs.readlinkSync(path.join(root, 'dev/ptmx'))).toBe('pts/ptmx');
  expect(sys.calls.at(-1)).toBe(`setattr <root> ${MOUNT_ATTR_RDONLY}`);
});

test('a read-only file bind gets an empty file as mount point and a read-only flag on that mount only', () => {
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(tmp, 'hosts'), '127.0.0.1 localhost\n');
  const spec = defaultSpec({ id: 'c', rootPath: root, args: ['sh'] });
  spec.mounts = [
    { destination: '/etc/hosts', source: path.join(tmp, 'hosts'), type: 'bind', options: ['rbind', 'ro'] },
  ];
  spec.linux.maskedPaths = [];
  spec.linux.readonlyPaths = [];
  const sys = new RecordingSys(root);
  prepareRoot(spec, sys);
  expect(fs.readFileSync(path.join(root, 'etc/hosts'), 'utf8')).toBe('');
  // The read-only attribute is set on the detached copy, before it is attached.
  expect(sys.calls).toContain(`bind ${tmp}/hosts <root>/etc/hosts rec set=${MOUNT_ATTR_RDONLY} rset=0`);
});

test('masked files are covered by the container /dev/null and masked directories by a read-only tmpfs', () => {
  fs.mkdirSync(path.join(root, 'secret-dir'), { recursive: true });
  fs.writeFileSync(path.join(root, 'secret-file'), 'x');
  const spec = defaultSpec({ id: 'c', rootPath: root, args: ['sh'] });
  spec.linux.maskedPaths = ['/secret-dir', '/secret-file', '/not-there'];
  spec.linux.readonlyPaths = [];
  const sys = new RecordingSys(root);
  prepareRoot(spec, sys);
  expect(sys.calls).toContain(`mount tmpfs <root>/secret-dir tmpfs 0x${MS_RDONLY.toString(16)}`);
  // the fake's /dev/null is a plain file, so the host's is used
  expect(sys.calls).toContain(`mount /dev/null <root>/secret-file null 0x${MS_BIND.toString(16)}`);
  expect(sys.calls.some((c) => c.includes('not-there'))).toBe(false);
});

test('an overlay layer path with a comma is refused before anything is mounted on it', () => {
  const spec = defaultSpec({
    id: 'c',
    rootPath: root,
    args: ['sh'],
    overlay: { lowerDirs: [`${tmp}/a,b`], upperDir: `${tmp}/up`, workDir: `${tmp}/work` },
  });
  const sys = new RecordingSys(root);
  expect(() => prepareRoot(spec, sys)).toThrow(
    /Cannot mount the overlay root: the path '.*a,b' has ',' or ':'/,
  );
  expect(sys.calls.filter((c) => c.includes('overlay'))).toEqual([]);
});

test('a sysctl whose file is not on procfs (a volume over /proc/sys) is refused and left unwritten', () => {
  fs.mkdirSync(path.join(root, 'proc/sys/kernel'), { recursive: true });
  fs.writeFileSync(path.join(root, 'proc/sys/kernel/domainname'), 'volume file');
  const spec = defaultSpec({ id: 'c', rootPath: root, args: ['sh'] });
  spec.linux.sysctl = { 'kernel.domainname': 'pwned' };
  expect(() => prepareRoot(spec, new RecordingSys(root))).toThrow(
    "Cannot set sysctl 'kernel.domainname' to 'pwned': '/proc/sys/kernel/domainname' is not on procfs",
  );
  expect(fs.readFileSync(path.join(root, 'proc/sys/kernel/domainname'), 'utf8')).toBe('volume file');
});

test('a /dev/null that is not the null device is never a mask source: the host one is', () => {
  fs.mkdirSync(path.join(root, 'dev'), { recursive: true });
  fs.symlinkSync('/etc/hostname', path.join(root, 'dev/null'));
  fs.writeFileSync(path.join(root, 'secret-file'), 'x');
  const spec = defaultSpec({ id: 'c', rootPath: root, args: ['sh'] });
  spec.mounts = [];
  spec.linux.maskedPaths = ['/secret-file'];
  spec.linux.readonlyPaths = [];
  const sys = new RecordingSys(root);
  prepareRoot(spec, sys);
  expect(sys.calls).toContain(`mount /dev/null <root>/secret-file null 0x${MS_BIND.toString(16)}`);
});
