// What a cluster operator applies from manifests/ (the monitoring files have their own tests in
// src/metrics and promtool): the meaning that can be checked offline. dry_run.test.ts asks a real
// kube-apiserver to accept every object.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseManifest } from '../../../src/agent';
import { filesUnder, KubeObject, MANIFESTS, parseUnit, REPO, yamlDocuments } from './support';
import { SYSTEM_NODE_RULES, PolicyRule } from './system_node_rules';

const KNOWN_KINDS = new Set([
  'node.k8s.io/v1 RuntimeClass',
  'rbac.authorization.k8s.io/v1 ClusterRole',
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding',
  'v1 Pod',
]);
// Files of manifests/ that are not Kubernetes objects: nodelet's own configuration for kind.
const NOT_OBJECTS = ['manifests/kind/nodelet-config.yaml'];

const objectFiles = filesUnder(MANIFESTS, ['.yaml', '.yml'], [path.join(MANIFESTS, 'monitoring')]).filter(
  (f) => !NOT_OBJECTS.includes(f),
);
const objects = (): { file: string; object: KubeObject }[] =>
  objectFiles.flatMap((file) =>
    yamlDocuments(file).map((object) => ({ file, object: object as KubeObject })),
  );
const ofKind = (kind: string) => objects().filter((o) => o.object.kind === kind);

describe('the manifests an operator applies', () => {
  test('are found: a RuntimeClass, the RBAC and example pods', () => {
    expect(objectFiles).toEqual(
      expect.arrayContaining([
        'manifests/runtimeclass.yaml',
        'manifests/rbac/nodelet-agent.yaml',
        'manifests/examples/pod-on-nodelet.yaml',
      ]),
    );
  });

  test.each(objectFiles)('%s holds objects with apiVersion, a known kind and a name', (file) => {
    const docs = yamlDocuments(file) as KubeObject[];
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      expect(KNOWN_KINDS).toContain(`${doc.apiVersion} ${doc.kind}`);
      expect(doc.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$/);
    }
  });

  test('no two objects of the same kind share a name', () => {
    const keys = objects().map(
      ({ object: o }) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`,
    );
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('the RuntimeClass handler is a DNS label, as the API server requires', () => {
    const [rc] = ofKind('RuntimeClass');
    expect(rc.object.handler).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(String(rc.object.handler).length).toBeLessThanOrEqual(63);
  });

  test('every example pod that names a RuntimeClass names the one shipped here', () => {
    const shipped = ofKind('RuntimeClass').map((r) => r.object.metadata?.name);
    for (const { object } of ofKind('Pod')) {
      const name = (object.spec as { runtimeClassName?: string }).runtimeClassName;
      if (name !== undefined) expect(shipped).toContain(name);
    }
  });
});

describe("the agent's RBAC", () => {
  const covered = (verb: string, group: string, resource: string) =>
    SYSTEM_NODE_RULES.some(
      (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
    );

  test('grants nothing the built-in system:node role does not grant', () => {
    const [role] = ofKind('ClusterRole');
    const beyond: string[] = [];
    for (const rule of role.object.rules as PolicyRule[]) {
      expect(rule.resourceNames).toBeUndefined();
      expect(rule.nonResourceURLs).toBeUndefined();
      for (const group of rule.apiGroups)
        for (const resource of rule.resources)
          for (const verb of rule.verbs)
            if (!covered(verb, group, resource)) beyond.push(`${verb} ${group || 'core'}/${resource}`);
    }
    expect(beyond).toEqual([]);
  });

  test("is bound to one node's identity, never to every node or a wildcard", () => {
    const [binding] = ofKind('ClusterRoleBinding');
    const [role] = ofKind('ClusterRole');
    expect(binding.object.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: role.object.metadata?.name,
    });
    const subjects = binding.object.subjects as { kind: string; name: string }[];
    expect(subjects.length).toBe(1);
    expect(subjects[0].kind).toBe('User');
    expect(subjects[0].name).toMatch(/^system:node:[a-z0-9][-a-z0-9.]*$/);
  });
});

describe('the static pod examples', () => {
  const statics = filesUnder(path.join(MANIFESTS, 'examples', 'static'), ['.yaml']);

  test.each(statics)("%s runs under the agent's own manifest parser without an error", (file) => {
    const desired = parseManifest(file, fs.readFileSync(path.join(REPO, file), 'utf8'), 'node-a');
    expect(desired.error).toBeUndefined();
    expect(desired.pod?.metadata.name).toBe(`${path.basename(file, '.yaml')}-node-a`);
  });
});

describe('the systemd units', () => {
  const daemon = parseUnit('manifests/systemd/nodelet.service');
  const agent = parseUnit('manifests/systemd/nodelet-agent.service');

  test('the daemon unit signals only the daemon, so the monitor and its containers outlive a restart', () => {
    expect(daemon.Service.KillMode).toEqual(['process']);
    expect(daemon.Service.Delegate).toEqual(['yes']);
    expect(daemon.Service.ExecStart).toEqual(['/usr/local/lib/nodelet/dist/cli/main.js daemon']);
  });

  test('the agent unit starts after the daemon and talks to its socket', () => {
    expect(agent.Unit.After).toContain('nodelet.service');
    expect(agent.Service.ExecStart[0]).toMatch(
      /^\/usr\/local\/lib\/nodelet\/dist\/cli\/main\.js agent --pod-manifest-path \/etc\/nodelet\/manifests --container-runtime-endpoint unix:\/\/\/run\/nodelet\/nodelet\.sock$/,
    );
  });

  test('each unit sets a key once and can be installed', () => {
    for (const unit of [daemon, agent]) {
      for (const [key, values] of Object.entries(unit.Service)) {
        if (key !== 'Environment' && key !== 'ExecStartPre')
          expect({ key, values: values.length }).toEqual({ key, values: 1 });
      }
      expect(unit.Install.WantedBy).toEqual(['multi-user.target']);
    }
  });

  test('the flags the units pass are flags the commands accept', () => {
    const help = fs.readFileSync(path.join(REPO, 'src', 'cli', 'agent.ts'), 'utf8');
    for (const flag of agent.Service.ExecStart[0].match(/--[a-z-]+/g) ?? [])
      expect(help).toContain(`'${flag.slice(2)}'`);
  });

  test('systemd-analyze verify has nothing to say about either unit', () => {
    // verify checks that ExecStart is executable: point the units at a stand-in install dir.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-units-'));
    try {
      const main = path.join(tmp, 'lib', 'dist', 'cli', 'main.js');
      fs.mkdirSync(path.dirname(main), { recursive: true });
      fs.writeFileSync(main, '#!/bin/sh\n', { mode: 0o755 });
      const units = ['nodelet.service', 'nodelet-agent.service'].map((name) => {
        const text = fs.readFileSync(path.join(MANIFESTS, 'systemd', name), 'utf8');
        fs.writeFileSync(
          path.join(tmp, name),
          text.replaceAll('/usr/local/lib/nodelet', path.join(tmp, 'lib')),
        );
        return `./${name}`;
      });
      // Problems (unknown keys, bad values) are warnings on stderr with exit code 0.
      const result = spawnSync('systemd-analyze', ['verify', '--man=no', ...units], {
        cwd: tmp,
        encoding: 'utf8',
      });
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
