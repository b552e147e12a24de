// Attack: a pod says runAsNonRoot but its image runs as root (no USER, or USER 0), or names a user
// the node cannot check. The kubelet refuses to create such a container (CreateContainerConfigError);
// a node that only looked at runAsUser would run it as root. The agent in standalone mode on
// nodelet's real daemon, with the critest fixture images that carry a numeric and a named user.
import fs from 'node:fs';
import path from 'node:path';
import { CriClient } from '../../src/agent/cri_client';
import type { PodStatusView } from '../../src/agent/pod_status';
import { NODE, useAgentNode } from './agent_node';

jest.setTimeout(240_000);

const BUSYBOX = 'registry.k8s.io/e2e-test-images/busybox:1.29-2'; // no USER: root
const NAMED = 'gcr.io/k8s-staging-cri-tools/test-image-user-username:latest'; // USER www-data
const NUMERIC = 'gcr.io/k8s-staging-cri-tools/test-image-user-uid:latest'; // USER 1002

const node = useAgentNode('nonroot');

test('runAsNonRoot refuses images that run as root or by name, and runs numeric non-root users', async () => {
  const nonRoot = { runAsNonRoot: true };
  const sleep = ['sh', '-c', 'id -u; sleep 3600'];
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'nonroot', uid: 'nonroot-uid' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'root-image', image: BUSYBOX, command: sleep, securityContext: nonRoot },
        { name: 'named-user', image: NAMED, command: sleep, securityContext: nonRoot },
        { name: 'zero-user', image: NUMERIC, command: sleep, securityContext: { ...nonRoot, runAsUser: 0 } },
        { name: 'numeric-user', image: NUMERIC, command: sleep, securityContext: nonRoot },
        {
          name: 'explicit-user',
          image: BUSYBOX,
          command: sleep,
          securityContext: { ...nonRoot, runAsUser: 1000 },
        },
      ],
    },
  };
  fs.writeFileSync(path.join(node.dirs().manifests, 'nonroot.json'), JSON.stringify(pod));
  const agent = await node.start();
  const refused = ['root-image', 'named-user', 'zero-user'];
  const until = Date.now() + 120_000;
  let status: PodStatusView | undefined;
  for (;;) {
    status = [...agent.pods().values()][0]?.status;
    const state = (name: string) => status?.containerStatuses.find((c) => c.name === name)?.state;
    const ran = (name: string) => {
      const s = state(name);
      return !!s && !('waiting' in s && s.waiting.reason === 'ContainerCreating');
    };
    if (['numeric-user', 'explicit-user', ...refused].every(ran)) break;
    if (Date.now() > until) throw new Error(`timed out: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  const stateOf = (name: string) => status!.containerStatuses.find((c) => c.name === name)!.state;
  expect(stateOf('numeric-user')).toHaveProperty('running');
  expect(stateOf('explicit-user')).toHaveProperty('running');
  const where = `(pod: "nonroot-${NODE}_default(nonroot-uid)", container:`;
  expect(stateOf('root-image')).toEqual({
    waiting: {
      reason: 'CreateContainerConfigError',
      message: `container has runAsNonRoot and image will run as root ${where} root-image)`,
    },
  });
  expect(stateOf('named-user')).toEqual({
    waiting: {
      reason: 'CreateContainerConfigError',
      message: `container has runAsNonRoot and image has non-numeric user (www-data), cannot verify user is non-root ${where} named-user)`,
    },
  });
  expect(stateOf('zero-user')).toEqual({
    waiting: {
      reason: 'CreateContainerConfigError',
      message: `container's runAsUser breaks non-root policy ${where} zero-user)`,
    },
  });
  // The refused containers were never created in the runtime.
  const cri = new CriClient(node.daemon().endpoint);
  try {
    const { containers } = await cri.listContainers({
      filter: { label_selector: { 'io.kubernetes.pod.uid': 'nonroot-uid' } },
    });
    const created = containers.map((c) => c.metadata?.name).sort();
    expect(created).toEqual(['explicit-user', 'numeric-user']);
  } finally {
    cri.close();
  }
});
