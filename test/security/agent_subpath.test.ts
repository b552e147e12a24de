// Attack: subPath through a symlink a container planted (the CVE-2017-1002101 class). An init container
// plants links in an emptyDir (to "/", to "../../..", to a host directory); the next containers mount
// subPaths through them and try to read a host canary, write beside it, and make the node create
// directories on the host. The agent in standalone mode runs the pod on nodelet's real daemon.
import fs from 'node:fs';
import path from 'node:path';
import type { Agent } from '../../src/agent';
import { IMAGE, NODE, useAgentNode } from './agent_node';

jest.setTimeout(240_000);

const node = useAgentNode('subpath');
const { dirs, start, statusOf, waitFor } = node;
let agent: Agent;

function mountsUnder(root: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m && m.startsWith(root + '/'));
}

test('subPaths through links planted by an init container are refused and the host stays untouched', async () => {
  const host = path.join(node.dir(), 'host');
  fs.mkdirSync(host);
  const canary = path.join(host, 'canary');
  fs.writeFileSync(canary, 'host-secret\n', { mode: 0o600 });
  const depth = '../'.repeat(20);
  // Each attacker reads the canary through its mount, writes beside it, and stays up. `hostDir` is
  // where the host directory would be in the mount if the link were followed.
  const attack = (hostDir: string) => [
    'sh',
    '-c',
    `cat ${hostDir}/canary; echo pwned > ${hostDir}/written; sleep 3600`,
  ];
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'evil' },
    spec: {
      terminationGracePeriodSeconds: 1,
      volumes: [{ name: 'vol', emptyDir: {} }],
      initContainers: [
        {
          name: 'plant',
          image: IMAGE,
          command: [
            'sh',
            '-c',
            `ln -s / /vol/root && ln -s ${depth.slice(0, -1)} /vol/up && ln -s ${host} /vol/hostdir && mkdir /vol/real && ln -s real /vol/inside`,
          ],
          volumeMounts: [{ name: 'vol', mountPath: '/vol' }],
        },
      ],
      containers: [
        {
          name: 'to-root',
          image: IMAGE,
          command: attack(`/m${host}`),
          volumeMounts: [{ name: 'vol', mountPath: '/m', subPath: 'root' }],
        },
        {
          name: 'dotdot',
          image: IMAGE,
          command: attack(`/m${host}`),
          volumeMounts: [{ name: 'vol', mountPath: '/m', subPath: 'up' }],
        },
        {
          name: 'to-host',
          image: IMAGE,
          command: attack('/m'),
          volumeMounts: [{ name: 'vol', mountPath: '/m', subPath: 'hostdir' }],
        },
        {
          name: 'parent-link',
          image: IMAGE,
          command: attack('/m'),
          volumeMounts: [{ name: 'vol', mountPath: '/m', subPath: 'hostdir/made/by/node' }],
        },
        {
          // A subPath that stays in the volume still works, through an in-volume link too (as the kubelet).
          name: 'good',
          image: IMAGE,
          command: ['sh', '-c', 'echo ok > /m/from-good; echo ok > /l/through-link; sleep 3600'],
          volumeMounts: [
            { name: 'vol', mountPath: '/m', subPath: 'fresh/dir' },
            { name: 'vol', mountPath: '/l', subPath: 'inside' },
          ],
        },
      ],
    },
  };
  fs.writeFileSync(path.join(dirs().manifests, 'evil.json'), JSON.stringify(pod));
  agent = await start();
  agent.rescan();

  const attackers = ['to-root', 'dotdot', 'to-host', 'parent-link'];
  const settled = await waitFor('every container to run or be refused', () => {
    const s = statusOf('evil');
    if (!s) return undefined;
    const good = s.containerStatuses.find((c) => c.name === 'good');
    if (!good || !('running' in good.state)) return undefined;
    const decided = attackers.every((name) => {
      const c = s.containerStatuses.find((x) => x.name === name);
      return (
        c &&
        (!('waiting' in c.state) ||
          c.state.waiting.reason === 'CreateContainerConfigError' ||
          c.state.waiting.reason === 'CreateContainerError')
      );
    });
    return decided ? s : undefined;
  });
  // Give an attacker that did start time to act before the host is inspected.
  await new Promise((r) => setTimeout(r, 2000));

  expect(fs.readFileSync(canary, 'utf8')).toBe('host-secret\n');
  expect(fs.existsSync(path.join(host, 'written'))).toBe(false);
  expect(fs.existsSync(path.join(host, 'made'))).toBe(false);
  expect(fs.readdirSync(host)).toEqual(['canary']);
  const uid = [...agent.pods().values()][0].desired.uid;
  const logDir = path.join(dirs().logs, `default_evil-${NODE}_${uid}`);
  for (const name of attackers) {
    const log = path.join(logDir, name, '0.log');
    expect(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '').not.toContain('host-secret');
    const c = settled.containerStatuses.find((x) => x.name === name)!;
    expect(c.state).toEqual({
      waiting: { reason: 'CreateContainerConfigError', message: expect.stringContaining('subPath') },
    });
    const subPath = pod.spec.containers.find((x) => x.name === name)!.volumeMounts[0].subPath;
    expect((c.state as { waiting: { message: string } }).waiting.message).toContain(`"${subPath}"`);
  }

  // The good container wrote into the volume, through its subPath and through the in-volume link.
  const vol = path.join(dirs().root, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'vol');
  await waitFor('the good container to write', () =>
    fs.existsSync(path.join(vol, 'fresh', 'dir', 'from-good')),
  );
  expect(fs.readFileSync(path.join(vol, 'real', 'through-link'), 'utf8')).toBe('ok\n');
  // Its subPaths are bind mounts the node owns, under the pod's directory.
  expect(mountsUnder(path.join(dirs().root, 'pods', uid, 'volume-subpaths')).length).toBe(2);

  // The agent stops; the pod is deleted while it is away; the restarted agent removes it and its mounts.
  await agent.stop();
  fs.rmSync(path.join(dirs().manifests, 'evil.json'));
  agent = await start();
  await agent.settled();
  expect(mountsUnder(dirs().root)).toEqual([]);
  expect(fs.existsSync(path.join(dirs().root, 'pods', uid))).toBe(false);
  expect(fs.readdirSync(host)).toEqual(['canary']);
});
