// The "nothing remains" helper sees each kind of thing a daemon could leave behind. Made by hand
// here, in this test's own temporary root and cgroup parent: a pinned-namespace bind mount, a
// record, an IPAM lease, a per-id directory and a cgroup.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { leftovers, NodeRoots } from './leftovers';

let roots: NodeRoots;
let cgroupParent = '';
let cgroup = '';

beforeAll(() => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-leftovers-'));
  roots = { root, stateDir: path.join(root, 'state'), runDir: path.join(root, 'run') };
  cgroupParent = `/nodelet-leftovers-${path.basename(root).slice(-6)}`;
  // As startDaemon writes it: the helper takes the cgroup parent and the bridge from there.
  fs.writeFileSync(path.join(root, 'config.yaml'), YAML.stringify({ cgroupParent, cniBridge: 'nlt-none' }));
});

afterAll(() => {
  spawnSync('umount', [path.join(roots.runDir, 'ns', 'pod1', 'network')]);
  if (cgroup) {
    fs.rmdirSync(cgroup);
    fs.rmdirSync(path.dirname(cgroup));
  }
  fs.rmSync(roots.root, { recursive: true, force: true });
});

test('finds nothing in a fresh root', () => {
  expect(leftovers(roots)).toEqual([]);
});

test('names a pinned namespace, a record, a lease, a directory and a cgroup left behind', () => {
  const nsDir = path.join(roots.runDir, 'ns', 'pod1');
  fs.mkdirSync(nsDir, { recursive: true });
  fs.writeFileSync(path.join(nsDir, 'network'), '');
  expect(spawnSync('mount', ['--bind', '/proc/self/ns/net', path.join(nsDir, 'network')]).status).toBe(0);
  const records = path.join(roots.stateDir, 'records', 'sandboxes');
  fs.mkdirSync(records, { recursive: true });
  fs.writeFileSync(path.join(records, 'pod1.json'), '{}');
  const leases = path.join(roots.stateDir, 'cni', 'networks', 'nodelet');
  fs.mkdirSync(leases, { recursive: true });
  for (const f of ['10.1.2.3', 'last_reserved_ip.0', 'lock']) fs.writeFileSync(path.join(leases, f), '');
  const hierarchy = fs.existsSync('/sys/fs/cgroup/pids') ? '/sys/fs/cgroup/pids' : '/sys/fs/cgroup';
  cgroup = path.join(hierarchy, cgroupParent, 'pod1');
  fs.mkdirSync(cgroup, { recursive: true });

  expect(leftovers(roots)).toEqual([
    `mount ${nsDir}/network`,
    `pinned namespaces ${nsDir}`,
    `pod record ${records}/pod1.json`,
    `IPAM lease ${leases}/10.1.2.3`,
    `cgroup ${path.basename(hierarchy)}:${cgroupParent}/pod1`,
  ]);
});
