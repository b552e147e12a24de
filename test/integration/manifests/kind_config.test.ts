// kind-config.yaml cannot be tried here (no Docker engine), so it is checked the way kind reads it:
// test/kind-schema decodes it strictly into kind's own v1alpha4 Go types (pinned sigs.k8s.io/kind),
// then these tests check what kind cannot know: that every mounted path exists in this repository
// and that the worker's kubelet is pointed at the socket nodelet really serves.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { DEFAULT_CONFIG_FILE, loadDaemonConfig, parseDaemonConfig } from '../../../src/config';
import { goBinary, parseUnit, REPO } from './support';

const run = promisify(execFile);
const KIND_SCHEMA = path.join(REPO, 'test', 'kind-schema');

interface KindSummary {
  nodes: {
    role: string;
    labels: Record<string, string> | null;
    extraMounts: { hostPath: string; containerPath: string; readOnly: boolean }[];
    patchKinds: string[];
  }[];
}

async function kindSchema(file: string): Promise<KindSummary> {
  const { stdout } = await run(goBinary(), ['run', '.', file], {
    cwd: KIND_SCHEMA,
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' },
    timeout: 300_000,
  });
  return JSON.parse(stdout) as KindSummary;
}

let summary: KindSummary;
let tmp: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-kind-'));
  summary = await kindSchema(path.join(REPO, 'kind-config.yaml'));
}, 300_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const worker = () => summary.nodes.find((n) => n.role === 'worker')!;
const mountAt = (containerPath: string) =>
  worker().extraMounts.find((m) => m.containerPath === containerPath);
const workerJoinPatch = () => {
  const text = fs.readFileSync(path.join(REPO, 'kind-config.yaml'), 'utf8');
  const config = parse(text) as { nodes: { role: string; kubeadmConfigPatches?: string[] }[] };
  const patches = config.nodes.find((n) => n.role === 'worker')!.kubeadmConfigPatches ?? [];
  return patches.map((p) => parse(p) as Record<string, unknown>).find((p) => p.kind === 'JoinConfiguration')!;
};

describe('kind-config.yaml', () => {
  test("decodes strictly into kind's v1alpha4 Cluster with a containerd control plane and one worker", () => {
    expect(summary.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker']);
    expect(summary.nodes[0].extraMounts).toEqual([]);
    expect(worker().patchKinds).toEqual(['JoinConfiguration']);
  });

  test('the checker refuses a field kind does not know, as kind create cluster would', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    const text = fs.readFileSync(path.join(REPO, 'kind-config.yaml'), 'utf8');
    fs.writeFileSync(bad, text.replace('  - role: worker\n', '  - role: worker\n    extraMountz: []\n'));
    await expect(kindSchema(bad)).rejects.toThrow(/extraMountz/);
  }, 300_000);

  test('every mounted host path exists in the repository (kind resolves them from where it runs)', () => {
    for (const m of worker().extraMounts) {
      expect(path.isAbsolute(m.hostPath)).toBe(false);
      expect({ hostPath: m.hostPath, exists: fs.existsSync(path.join(REPO, m.hostPath)) }).toEqual({
        hostPath: m.hostPath,
        exists: true,
      });
      expect(m.readOnly).toBe(true);
    }
  });

  test('the worker mounts nodelet where its systemd unit runs it from, built from src/cli/main.ts', () => {
    const install = mountAt('/usr/local/lib/nodelet');
    expect(install?.hostPath).toBe('.');
    const unit = parseUnit(mountAt('/etc/systemd/system/nodelet.service')!.hostPath);
    const [exec] = unit.Service.ExecStart[0].split(' ');
    expect(exec).toBe('/usr/local/lib/nodelet/dist/cli/main.js');
    // dist/ is `npm run build`'s output of src/ (tsconfig.build.json: rootDir src, outDir dist).
    expect(fs.existsSync(path.join(REPO, 'src', 'cli', 'main.ts'))).toBe(true);
  });

  test("the worker's kubelet joins with the socket nodelet serves by default", () => {
    const patch = workerJoinPatch() as { nodeRegistration: { criSocket: string } };
    const served = parseDaemonConfig({}).socket;
    expect(patch.nodeRegistration.criSocket).toBe(`unix://${served}`);
  });

  test("nodelet's configuration on the worker is valid and mounted where the daemon reads it", () => {
    const config = mountAt(DEFAULT_CONFIG_FILE);
    expect(config).toBeDefined();
    const loaded = loadDaemonConfig({ file: path.join(REPO, config!.hostPath) });
    expect(loaded.cniBinDirs).toEqual(['/opt/cni/bin']);
    expect(loaded.socket).toBe(parseDaemonConfig({}).socket);
  });

  test("the kubelet drop-in starts nodelet with the kubelet, and nodelet's drop-in puts the mounted Node first", () => {
    const kubelet = parseUnit(mountAt('/etc/systemd/system/kubelet.service.d/20-nodelet.conf')!.hostPath);
    expect(kubelet.Unit).toEqual({ Wants: ['nodelet.service'], After: ['nodelet.service'] });
    const dropIn = parseUnit(mountAt('/etc/systemd/system/nodelet.service.d/10-kind.conf')!.hostPath);
    const env = dropIn.Service.Environment[0];
    expect(env.startsWith('PATH=/usr/local/lib/nodelet/.cache/kind/node/bin:')).toBe(true);
    // .cache/ is ignored by git, so the unpacked Node runtime never gets committed.
    expect(fs.readFileSync(path.join(REPO, '.gitignore'), 'utf8').split('\n')).toContain('.cache/');
  });

  test('the worker is labelled and tainted so that only pods of the nodelet RuntimeClass land on it', () => {
    const patch = workerJoinPatch() as {
      nodeRegistration: { taints: { key: string; value: string; effect: string }[] };
    };
    const runtimeClass = parse(
      fs.readFileSync(path.join(REPO, 'manifests', 'runtimeclass.yaml'), 'utf8'),
    ) as {
      scheduling: { nodeSelector: Record<string, string>; tolerations: Record<string, string>[] };
    };
    expect(runtimeClass.scheduling.nodeSelector).toEqual(worker().labels);
    for (const taint of patch.nodeRegistration.taints) {
      expect(runtimeClass.scheduling.tolerations).toContainEqual({ ...taint, operator: 'Equal' });
    }
  });
});
