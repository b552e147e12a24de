import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CAPABILITIES } from '../capabilities';
import { compileSeccomp } from './compile';
import { loadSeccompProfile, runtimeDefaultSeccomp, seccompFor } from './profiles';

const rulesFor = (spec: ReturnType<typeof runtimeDefaultSeccomp>, name: string) =>
  spec.syscalls.filter((r) => r.names.includes(name));

describe('RuntimeDefault seccomp', () => {
  it('denies with EPERM by default and checks the x86 family of architectures', () => {
    const spec = runtimeDefaultSeccomp();
    expect(spec.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(spec.defaultErrnoRet).toBe(1);
    if (process.arch === 'x64') {
      expect(spec.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    }
  });

  it('keeps mount, unshare and namespace clones from a container without CAP_SYS_ADMIN', () => {
    const spec = runtimeDefaultSeccomp(DEFAULT_CAPABILITIES);
    expect(rulesFor(spec, 'unshare')).toEqual([]);
    expect(rulesFor(spec, 'mount')).toEqual([]);
    expect(rulesFor(spec, 'clone')).toEqual([
      {
        names: ['clone'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }],
      },
    ]);
    expect(rulesFor(spec, 'clone3')).toEqual([{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
    expect(rulesFor(spec, 'keyctl')).toEqual([]);
  });

  it('allows them when the container has CAP_SYS_ADMIN', () => {
    const spec = runtimeDefaultSeccomp([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
    expect(rulesFor(spec, 'unshare')).toHaveLength(1);
    expect(rulesFor(spec, 'clone').every((r) => r.args === undefined)).toBe(true);
    expect(rulesFor(spec, 'clone3').every((r) => r.action === 'SCMP_ACT_ALLOW')).toBe(true);
  });

  it('compiles to a whole number of BPF instructions, within the kernel’s 4096 limit', () => {
    const program = compileSeccomp(runtimeDefaultSeccomp());
    expect(program.length % 8).toBe(0);
    expect(program.length / 8).toBeLessThanOrEqual(4096);
    // The first instruction loads seccomp_data.arch (offset 4): the architecture is checked first.
    expect(program.readUInt16LE(0)).toBe(0x20);
    expect(program.readUInt32LE(4)).toBe(4);
  });
});

describe('seccompFor', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-seccomp-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, body: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
    return file;
  };

  it('gives no filter for nil, Unconfined and privileged containers', () => {
    expect(seccompFor(undefined, false, DEFAULT_CAPABILITIES)).toBeUndefined();
    expect(seccompFor({ profile_type: 'Unconfined' }, false, DEFAULT_CAPABILITIES)).toBeUndefined();
    expect(seccompFor({ profile_type: 'RuntimeDefault' }, true, DEFAULT_CAPABILITIES)).toBeUndefined();
    expect(seccompFor('unconfined', false, DEFAULT_CAPABILITIES)).toBeUndefined();
  });

  it('loads a Docker-style Localhost profile from an absolute path', () => {
    const file = write('deny-chmod.json', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }],
    });
    const spec = seccompFor({ profile_type: 'Localhost', localhost_ref: file }, false, DEFAULT_CAPABILITIES);
    expect(spec).toMatchObject({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'] }] });
    expect(seccompFor(`localhost/${file}`, false, DEFAULT_CAPABILITIES)).toEqual(spec);
    expect(compileSeccomp(spec!).length).toBeGreaterThan(0);
  });

  it('honours a profile’s capability conditions', () => {
    const file = write('caps.json', {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['sethostname'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['getpid'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_ADMIN'] } },
      ],
    });
    expect(loadSeccompProfile(file, ['CAP_SYS_ADMIN']).syscalls.map((r) => r.names[0])).toEqual([
      'sethostname',
    ]);
    expect(loadSeccompProfile(file, []).syscalls.map((r) => r.names[0])).toEqual(['getpid']);
  });

  it('refuses relative paths, missing files, bad JSON and unknown actions clearly', () => {
    expect(() => seccompFor({ profile_type: 'Localhost', localhost_ref: 'x.json' }, false, [])).toThrow(
      "Cannot load seccomp profile 'x.json': the path must be absolute",
    );
    expect(() => loadSeccompProfile(path.join(dir, 'missing.json'))).toThrow(
      /Cannot load seccomp profile .*: no such file/,
    );
    expect(() => loadSeccompProfile(write('bad.json', '{'))).toThrow(/Cannot load seccomp profile/);
    expect(() => loadSeccompProfile(`${dir}/sub/../x.json`)).toThrow(
      "the path must not leave its directory with '..'",
    );
    // The content of a file that is not a profile is never quoted back.
    expect(() => loadSeccompProfile(write('secret.json', 'TOPSECRET'))).toThrow(/: it is not valid JSON$/);
    const odd = write('odd.json', { defaultAction: 'SCMP_ACT_MAYBE' });
    expect(() => loadSeccompProfile(odd)).toThrow('defaultAction: not a seccomp action (SCMP_ACT_*)');
  });

  const allowAll = { defaultAction: 'SCMP_ACT_ALLOW' };
  const rule = { names: ['chmod'], action: 'SCMP_ACT_ERRNO' };
  it.each([
    ['a profile that is a list', [allowAll], /\(top level\): Expected object, received array/],
    ['no defaultAction', {}, /defaultAction: Required/],
    ['syscalls that are not a list', { ...allowAll, syscalls: rule }, /syscalls: Expected array/],
    [
      'a rule with an unknown action',
      { ...allowAll, syscalls: [{ ...rule, action: 'X' }] },
      /syscalls\.0\.action: not a seccomp action/,
    ],
    [
      'names that are one string',
      { ...allowAll, syscalls: [{ ...rule, names: 'chmod' }] },
      /syscalls\.0\.names: Expected array/,
    ],
    [
      'a negative errnoRet',
      { ...allowAll, syscalls: [{ ...rule, errnoRet: -1 }] },
      /syscalls\.0\.errnoRet: Number must be greater than or equal to 0/,
    ],
    [
      'an argument index past the sixth',
      { ...allowAll, syscalls: [{ ...rule, args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] },
      /syscalls\.0\.args\.0\.index: a syscall has six arguments/,
    ],
    [
      'an unknown operator',
      { ...allowAll, syscalls: [{ ...rule, args: [{ index: 0, value: 0, op: 'SCMP_CMP_SOMETIMES' }] }] },
      /syscalls\.0\.args\.0\.op: not a seccomp operator/,
    ],
  ])('refuses a Localhost profile with %s as InvalidArgument naming the field', (_what, body, message) => {
    const file = write('malformed.json', body);
    expect(() => seccompFor({ profile_type: 'Localhost', localhost_ref: file }, false, [])).toThrow(
      expect.objectContaining({ kind: 'InvalidArgument', message: expect.stringMatching(message) }),
    );
  });

  it('never quotes a value of the file in its refusal', () => {
    const file = write('quoted.json', {
      defaultAction: 'TOPSECRET',
      syscalls: [{ names: ['x'], action: 'TOPSECRET2' }],
    });
    expect(() => loadSeccompProfile(file)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('TOPSECRET') }),
    );
  });
});
