// The security hook inside a real container: the engine's init (from dist/) builds the root,
// pivot_roots, then calls applyProcessSecuritySync with a filter the test compiled beforehand, as
// the daemon does. Checks what the workload sees from inside.
import fs from 'node:fs';
import path from 'node:path';
import {
  capabilitiesFor,
  compileSeccomp,
  resolveUser,
  runtimeDefaultSeccomp,
} from '../../../src/runtime/security';
import { buildBusyboxRootfs } from '../../support/busybox_rootfs';
import { ensureBuilt, makeTempRoot, mountsUnder, removeTempRoot, runScenario } from '../runtime/harness';

jest.setTimeout(180_000);

const isRoot = process.getuid?.() === 0;
const testRoot = isRoot ? test : test.skip;

let tmp: string;
let rootfs: string;

beforeAll(() => {
  if (isRoot) ensureBuilt();
});

beforeEach(() => {
  tmp = makeTempRoot();
  rootfs = buildBusyboxRootfs(path.join(tmp, 'rootfs'));
  fs.appendFileSync(path.join(rootfs, 'etc/passwd'), 'app:x:1000:1000::/tmp:/bin/sh\n');
  fs.appendFileSync(path.join(rootfs, 'etc/group'), 'app:x:1000:\nextra:x:50000:app\n');
});

afterEach(() => {
  expect(mountsUnder(tmp)).toEqual([]);
  removeTempRoot(tmp);
});

testRoot(
  'a container runs as the image’s user with its groups, no capabilities and RuntimeDefault seccomp',
  async () => {
    const user = resolveUser(rootfs, { runAsUsername: 'app', supplementalGroups: [1234], policy: 'Merge' });
    const capabilities = capabilitiesFor({ uid: user.uid, drop: ['ALL'] });
    const seccompBpf = compileSeccomp(runtimeDefaultSeccomp(capabilities.bounding)).toString('base64');
    const script = [
      'id -u; id -g; id -G',
      'grep -E "^(CapBnd|CapEff|NoNewPrivs|Seccomp):" /proc/self/status',
      'unshare -U true 2>/dev/null || echo unshare-denied',
    ].join('; ');
    const r = await runScenario(
      async (rt, h, ctx) => {
        const spec = rt.defaultSpec({ id: 'sec1', rootPath: ctx.rootfs, args: ['sh', '-c', ctx.script] });
        spec.process.user = ctx.user;
        spec.process.capabilities = ctx.capabilities;
        spec.process.noNewPrivileges = true;
        spec.linux.seccompBpf = ctx.seccompBpf;
        return h.run(rt, spec);
      },
      { rootfs, script, user, capabilities, seccompBpf },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      '1000',
      '1000',
      '1000 1234 50000',
      'CapEff:\t0000000000000000',
      'CapBnd:\t0000000000000000',
      'NoNewPrivs:\t1',
      'Seccomp:\t2',
      'unshare-denied',
      '',
    ]);
  },
);
