import type { LinuxSpec } from '../spec';
import { seccompProgram } from './apply';
import { withCompiledSeccomp } from './precompile';
import { compileSeccomp, runtimeDefaultSeccomp } from './seccomp';

const linux = (extra: Partial<LinuxSpec> = {}): LinuxSpec => ({
  namespaces: [],
  sysctl: {},
  maskedPaths: [],
  readonlyPaths: [],
  devices: [],
  ...extra,
});

describe('precompiled seccomp programs', () => {
  it('are added to a spec that has a seccomp filter, so the init need not compile', () => {
    const seccomp = runtimeDefaultSeccomp();
    const out = withCompiledSeccomp(linux({ seccomp }));
    expect(Buffer.from(out.seccompBpf!, 'base64')).toEqual(compileSeccomp(seccomp));
    expect(seccompProgram(out)).toEqual(compileSeccomp(seccomp));
  });

  it('are not invented for a spec without a filter', () => {
    const plain = linux();
    expect(withCompiledSeccomp(plain)).toBe(plain);
    expect(seccompProgram(plain)).toBeUndefined();
  });

  it('win over the filter description when both are present', () => {
    const bpf = Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]); // RET ALLOW
    const spec = linux({ seccomp: runtimeDefaultSeccomp(), seccompBpf: bpf.toString('base64') });
    expect(seccompProgram(spec)).toEqual(bpf);
  });

  it('are required: a filter without its program is refused, never compiled by the init', () => {
    expect(() => seccompProgram(linux({ seccomp: runtimeDefaultSeccomp() }))).toThrow(
      'the seccomp filter was not compiled (no seccompBpf in the spec)',
    );
  });
});
