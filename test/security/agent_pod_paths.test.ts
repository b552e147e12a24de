// Attack: a static pod manifest whose identity or volume names are paths. The agent builds host paths
// from them — <root-dir>/pods/<uid>, <root-dir>/pods/<uid>/volumes/<plugin>/<volume name> and
// <pod-logs-dir>/<namespace>_<name>_<uid> — and a manifest does not pass the API server's
// validation. With `..` in them the node would chmod, fill, bind into a container and finally
// `rm -rf` host directories outside its roots. The kubelet validates namespaces and volume names
// as DNS labels; a UID must be one path segment. The agent runs the pods on nodelet's real daemon.
import fs from 'node:fs';
import path from 'node:path';
import type { Agent } from '../../src/agent';
import type { PodStatusView } from '../../src/agent/pod_status';
import { IMAGE, useAgentNode } from './agent_node';

jest.setTimeout(240_000);

const node = useAgentNode('podpaths');
const { dirs, start, statusOf, waitFor } = node;
let agent: Agent;

/** A host directory outside the agent's roots, holding one file the attack must not touch. */
function victim(name: string): string {
  const d = path.join(node.dir(), name);
  fs.mkdirSync(d);
  fs.chmodSync(d, 0o755);
  fs.writeFileSync(path.join(d, 'canary'), 'host-data\n', { mode: 0o600 });
  return d;
}

function manifest(name: string, metadata: Record<string, unknown>, spec: Record<string, unknown> = {}): void {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...metadata },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', 'sleep 3600'] }],
      ...spec,
    },
  };
  fs.writeFileSync(path.join(dirs().manifests, `${name}.json`), JSON.stringify(pod));
}

test('a UID, namespace or volume name with .. is refused and no host directory outside the roots is touched', async () => {
  const byUid = victim('by-uid');
  const byVolume = victim('by-volume');
  // <root>/pods/<uid> = <dir>/by-uid: the pod's directory would be the victim, removed with the pod.
  manifest('evil-uid', { uid: '../../by-uid' });
  // <root>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name> = <dir>/by-volume, made 0777 and
  // bound read-write into the container, which writes there.
  manifest(
    'evil-volume',
    {},
    {
      volumes: [{ name: '../../../../../by-volume', emptyDir: {} }],
      containers: [
        {
          name: 'main',
          image: IMAGE,
          command: ['sh', '-c', 'echo pwned > /v/written; sleep 3600'],
          volumeMounts: [{ name: '../../../../../by-volume', mountPath: '/v' }],
        },
      ],
    },
  );
  // <logs>/<namespace>_<name>_<uid> = <dir>/by-namespace_evil-ns-secnode_<uid>.
  manifest('evil-ns', { namespace: '../by-namespace' });
  agent = await start();
  agent.rescan();

  const refused = {
    'evil-uid': 'metadata.uid',
    'evil-volume': 'spec.volumes.0.name',
    'evil-ns': 'metadata.namespace',
  };
  const settled = new Map<string, PodStatusView>();
  for (const name of Object.keys(refused)) {
    const s = await waitFor(`${name} to run or be refused`, () => {
      const x = statusOf(name);
      return x && x.phase !== 'Pending' ? x : undefined;
    });
    settled.set(name, s);
  }
  // Give a container that did start time to act before the host is inspected.
  await new Promise((r) => setTimeout(r, 2000));

  const state = (d: string) => ({ d, entries: fs.readdirSync(d), mode: fs.statSync(d).mode & 0o7777 });
  expect([byUid, byVolume].map(state)).toEqual(
    [byUid, byVolume].map((d) => ({ d, entries: ['canary'], mode: 0o755 })),
  );
  expect(fs.readdirSync(node.dir()).sort()).toEqual(['agent', 'by-uid', 'by-volume', 'logs', 'manifests']);
  for (const [name, field] of Object.entries(refused)) {
    const s = settled.get(name)!;
    expect({ name, phase: s.phase, reason: s.reason }).toEqual({
      name,
      phase: 'Failed',
      reason: 'InvalidManifest',
    });
    expect(s.message).toContain(field);
  }

  // Deleting the manifests removes the pods; nothing outside the roots goes with them.
  for (const f of fs.readdirSync(dirs().manifests)) fs.rmSync(path.join(dirs().manifests, f));
  agent.rescan();
  await agent.settled();
  await waitFor('the pods to be gone', () => agent!.pods().size === 0);
  await new Promise((r) => setTimeout(r, 1000));
  for (const d of [byUid, byVolume])
    expect(fs.readFileSync(path.join(d, 'canary'), 'utf8')).toBe('host-data\n');
});
