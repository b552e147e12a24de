// The CNI protocol and the manager against fake plugins: small shell scripts that record what
// they were given and print a fixed result. No root: the pod netns is our own /proc/self/ns/net,
// which the fakes never enter.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { PodNetworkManager } from './manager';
import { DEFAULT_CONFLIST_FILE } from './default_conflist';
import { execPlugin, CniPluginError } from './exec';

interface Call {
  plugin: string;
  command: string;
  args: string;
  netns: string;
  stdin: Record<string, unknown>;
}

let root: string;
let binDir: string;
let confDir: string;
let logFile: string;
const log = pino({ level: 'silent' });

/** A fake plugin: records its call; ADD prints a result whose IP ends in `octet`, or fails. */
function fakePlugin(name: string, octet: number, failOn?: string, versions = '"0.4.0","1.0.0"'): void {
  const result = JSON.stringify({
    cniVersion: '1.0.0',
    interfaces: [{ name: `host-${name}` }, { name: 'eth0', sandbox: 'NETNS' }],
    ips: [{ address: `10.9.0.${octet}/24`, interface: 1 }],
  }).replace('NETNS', '$CNI_NETNS');
  const script = `#!/bin/sh
input=$(cat)
printf '{"plugin":"${name}","command":"%s","args":"%s","netns":"%s","stdin":%s}\\n' "$CNI_COMMAND" "$CNI_ARGS" "$CNI_NETNS" "$input" >> ${logFile}
if [ "$CNI_COMMAND" = "${failOn ?? 'never'}" ]; then
  echo '{"cniVersion":"1.0.0","code":7,"msg":"${name} refuses","details":"on purpose"}'; exit 1
fi
case "$CNI_COMMAND" in
  ADD) echo '${result}' ;;
  VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":[${versions}]}' ;;
esac
`;
  fs.writeFileSync(path.join(binDir, name), script, { mode: 0o755 });
}

function writeList(plugins: Record<string, unknown>[]): void {
  fs.mkdirSync(confDir, { recursive: true });
  fs.writeFileSync(
    path.join(confDir, '50-test.conflist'),
    JSON.stringify({ cniVersion: '1.0.0', name: 'testnet', plugins }),
  );
}

function calls(): Call[] {
  if (!fs.existsSync(logFile)) return [];
  return fs
    .readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Call);
}

const manager = (extra = {}) =>
  new PodNetworkManager({ confDir, binDirs: [binDir], cacheDir: path.join(root, 'cache'), log, ...extra });

const request = (podId: string) => ({
  podId,
  name: 'web',
  namespace: 'shop',
  uid: 'u-1',
  netnsPath: '/proc/self/ns/net',
  portMappings: [
    { protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' },
    { protocol: 'TCP', containerPort: 81, hostPort: 0 },
  ],
});

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-cni-unit-'));
  binDir = path.join(root, 'bin');
  confDir = path.join(root, 'net.d');
  logFile = path.join(root, 'calls.log');
  fs.mkdirSync(binDir);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('PodNetworkManager with fake plugins', () => {
  test('ADD runs the plugins in order, chaining each result into the next as prevResult', async () => {
    fakePlugin('first', 2);
    fakePlugin('second', 3);
    writeList([{ type: 'first' }, { type: 'second' }]);
    const status = await manager().setUp(request('pod1'));
    expect(status.ips).toEqual(['10.9.0.3']);
    const [a, b] = calls();
    expect([a.plugin, a.command, b.plugin, b.command]).toEqual(['first', 'ADD', 'second', 'ADD']);
    expect(a.stdin).toMatchObject({ cniVersion: '1.0.0', name: 'testnet', type: 'first' });
    expect(a.stdin.prevResult).toBeUndefined();
    expect(b.stdin.prevResult).toMatchObject({ ips: [{ address: '10.9.0.2/24' }] });
    expect(a.args).toBe(
      'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=pod1;K8S_POD_UID=u-1',
    );
  });

  test('runtimeConfig reaches only the plugins that declare the capability, and only mapped ports', async () => {
    fakePlugin('bridge', 2);
    fakePlugin('portmap', 2);
    writeList([{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }]);
    await manager().setUp(request('pod1'));
    const [bridge, portmap] = calls();
    expect(bridge.stdin.runtimeConfig).toBeUndefined();
    expect(portmap.stdin.runtimeConfig).toEqual({
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    });
  });

  test('DEL runs in reverse with the final ADD result, from a fresh manager, and only once', async () => {
    fakePlugin('first', 2);
    fakePlugin('second', 3);
    writeList([{ type: 'first' }, { type: 'second' }]);
    await manager().setUp(request('pod1'));
    // The admin changes the config: DEL must still use what ADD used.
    writeList([{ type: 'second' }]);
    const restarted = manager();
    expect(restarted.pods()).toEqual(['pod1']);
    expect(restarted.status('pod1')?.ips).toEqual(['10.9.0.3']);
    await restarted.tearDown('pod1');
    await restarted.tearDown('pod1');
    const dels = calls().filter((c) => c.command === 'DEL');
    expect(dels.map((c) => c.plugin)).toEqual(['second', 'first']);
    expect(dels[1].stdin.prevResult).toMatchObject({ ips: [{ address: '10.9.0.3/24' }] });
    expect(restarted.status('pod1')).toBeUndefined();
    expect(restarted.pods()).toEqual([]);
  });

  test('a failed ADD is undone with DEL through every plugin and leaves no record', async () => {
    fakePlugin('first', 2);
    fakePlugin('broken', 3, 'ADD');
    writeList([{ type: 'first' }, { type: 'broken' }]);
    const m = manager();
    await expect(m.setUp(request('pod1'))).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining(
        "Cannot set up the network of pod 'pod1': CNI plugin 'broken': broken refuses",
      ),
    });
    expect(calls().map((c) => `${c.plugin} ${c.command}`)).toEqual([
      'first ADD',
      'broken ADD',
      'broken DEL',
      'first DEL',
    ]);
    expect(m.status('pod1')).toBeUndefined();
  });

  test('a DEL that fails keeps the record, so that the next tearDown tries again', async () => {
    fakePlugin('first', 2);
    fakePlugin('sticky', 3, 'DEL');
    writeList([{ type: 'first' }, { type: 'sticky' }]);
    const m = manager();
    await m.setUp(request('pod1'));
    await expect(m.tearDown('pod1')).rejects.toThrow(
      /Cannot tear down the network of pod 'pod1': CNI plugin 'sticky'/,
    );
    // first's DEL ran even though sticky's failed before it.
    expect(
      calls()
        .filter((c) => c.command === 'DEL')
        .map((c) => c.plugin),
    ).toEqual(['sticky', 'first']);
    expect(m.status('pod1')?.ips).toEqual(['10.9.0.3']);
  });

  test('setUp refuses while the network is not ready and says why', async () => {
    await expect(manager().setUp(request('pod1'))).rejects.toMatchObject({
      kind: 'FailedPrecondition',
      message: expect.stringContaining('Cannot find a CNI network config'),
    });
  });

  test('pod ids that are not CNI container ids are refused', async () => {
    await expect(manager().setUp(request('../etc'))).rejects.toThrow(/Cannot use pod id/);
  });

  test('VERSION answers through execPlugin, and a plugin error carries its code', async () => {
    fakePlugin('fake', 2, 'CHECK');
    const call = { containerId: 'c1', netns: '', ifName: 'eth0', args: {}, binDirs: [binDir] };
    await expect(
      execPlugin('fake', { ...call, command: 'VERSION', config: { cniVersion: '1.0.0' } }),
    ).resolves.toMatchObject({ supportedVersions: ['0.4.0', '1.0.0'] });
    const failure = execPlugin('fake', { ...call, command: 'CHECK', config: {} });
    await expect(failure).rejects.toBeInstanceOf(CniPluginError);
    await expect(failure).rejects.toMatchObject({ code: 7, msg: 'fake refuses' });
  });

  test('a plugin that hangs is killed and named', async () => {
    fs.writeFileSync(path.join(binDir, 'hang'), '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const call = {
      containerId: 'c1',
      netns: '',
      ifName: 'eth0',
      args: {},
      binDirs: [binDir],
      timeoutMs: 200,
    };
    await expect(execPlugin('hang', { ...call, command: 'ADD', config: {} })).rejects.toThrow(
      "CNI plugin 'hang': gave no answer to ADD within 0.2 s",
    );
  });

  test('a plugin that hangs waiting on a child is killed with the child, which held its stdout', async () => {
    const pidFile = path.join(binDir, 'child.pid');
    fs.writeFileSync(path.join(binDir, 'waits'), `#!/bin/sh\nsleep 30 &\necho $! > ${pidFile}\nwait\n`, {
      mode: 0o755,
    });
    const call = {
      containerId: 'c1',
      netns: '',
      ifName: 'eth0',
      args: {},
      binDirs: [binDir],
      timeoutMs: 300,
    };
    const began = Date.now();
    await expect(execPlugin('waits', { ...call, command: 'ADD', config: {} })).rejects.toThrow(
      "CNI plugin 'waits': gave no answer to ADD within 0.3 s",
    );
    expect(Date.now() - began).toBeLessThan(5000);
    const child = Number(fs.readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    // Gone, or a zombie waiting for whoever inherited it to reap it.
    const state = (() => {
      try {
        const stat = fs.readFileSync(`/proc/${child}/stat`, 'utf8');
        return stat[stat.lastIndexOf(')') + 2];
      } catch {
        return 'gone';
      }
    })();
    expect(['Z', 'gone']).toContain(state);
  });
});

describe('readiness and the default conflist', () => {
  test('NetworkReady is false and names the directory when no config exists', () => {
    expect(manager().condition()).toEqual({
      type: 'NetworkReady',
      status: false,
      reason: 'NetworkPluginNotReady',
      message: `Cannot find a CNI network config in '${confDir}' or '${path.join(root, 'cache', 'net.d')}'`,
    });
  });

  test('NetworkReady is false and names the plugin when a binary is missing', () => {
    fakePlugin('bridge', 2);
    writeList([{ type: 'bridge' }, { type: 'portmap' }]);
    const c = manager().condition();
    expect(c.status).toBe(false);
    expect(c.message).toContain("Cannot find CNI plugin 'portmap'");
    fakePlugin('portmap', 2);
    expect(manager().condition().status).toBe(true);
  });

  test("NetworkReady turns false once a plugin answers VERSION without the list's cniVersion", async () => {
    fakePlugin('bridge', 2, undefined, '"0.3.1","0.4.0"');
    writeList([{ type: 'bridge' }]);
    const m = manager();
    let condition = m.condition();
    for (let i = 0; i < 100 && condition.status; i++) {
      await new Promise((r) => setTimeout(r, 50));
      condition = m.condition();
    }
    expect(condition.status).toBe(false);
    expect(condition.message).toContain("CNI plugin 'bridge' speaks 0.3.1, 0.4.0, not 1.0.0");
  });

  test('the default conflist carries the pod CIDR, lives in the cache dir, and setPodCidr rewrites it', () => {
    const m = manager({ podCidr: '10.77.3.4/24', bridge: 'nltunit' });
    const file = m.installDefaultConflist();
    expect(file).toBe(path.join(root, 'cache', 'net.d', DEFAULT_CONFLIST_FILE));
    expect(fs.existsSync(confDir)).toBe(false);
    const read = () => JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(read()).toMatchObject({
      cniVersion: '1.0.0',
      plugins: [
        {
          type: 'bridge',
          bridge: 'nltunit',
          ipMasq: false,
          ipam: { ranges: [[{ subnet: '10.77.3.0/24' }]] },
        },
        { type: 'portmap' },
        { type: 'bandwidth' },
      ],
    });
    m.setPodCidr('10.66.0.0/16');
    expect(read().plugins[0].ipam.ranges).toEqual([[{ subnet: '10.66.0.0/16' }]]);
    expect(() => m.setPodCidr('fd00::/64')).toThrow(/Cannot use pod CIDR 'fd00::\/64'/);
  });

  test("an administrator's config wins over nodelet's default, which is used once it is gone", async () => {
    fakePlugin('bridge', 2);
    fakePlugin('portmap', 2);
    fakePlugin('bandwidth', 2);
    writeList([{ type: 'bridge' }]);
    const m = manager({ podCidr: '10.77.0.0/16' });
    m.installDefaultConflist();
    await m.setUp(request('pod1'));
    expect(calls().map((c) => c.stdin.name)).toEqual(['testnet']);
    fs.rmSync(confDir, { recursive: true });
    await m.setUp(request('pod2'));
    expect(
      calls()
        .slice(1)
        .map((c) => `${c.stdin.name} ${c.plugin}`),
    ).toEqual(['nodelet bridge', 'nodelet portmap', 'nodelet bandwidth']);
  });
});
