import { capabilitiesFor, DEFAULT_CAPABILITIES } from './capabilities';
import { CAP_NAMES, normalizeCapName } from './cap_names';

describe('capabilitiesFor', () => {
  it('gives a root container containerd’s default set in bounding, effective and permitted', () => {
    const caps = capabilitiesFor({ uid: 0, lastCap: 40 });
    expect(new Set(caps.bounding)).toEqual(new Set(DEFAULT_CAPABILITIES));
    expect(caps.effective).toEqual(caps.bounding);
    expect(caps.permitted).toEqual(caps.bounding);
    expect(caps.inheritable).toEqual([]);
    expect(caps.ambient).toEqual([]);
  });

  it('accepts CRI names without the CAP_ prefix and in any case', () => {
    const caps = capabilitiesFor({
      uid: 0,
      add: ['net_admin', 'CAP_SYS_TIME'],
      drop: ['NET_RAW'],
      lastCap: 40,
    });
    expect(caps.bounding).toContain('CAP_NET_ADMIN');
    expect(caps.bounding).toContain('CAP_SYS_TIME');
    expect(caps.bounding).not.toContain('CAP_NET_RAW');
  });

  it('empties every set when ALL is dropped', () => {
    const caps = capabilitiesFor({ uid: 0, drop: ['ALL'], lastCap: 40 });
    expect(caps).toEqual({ bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] });
  });

  it('applies named adds after dropping ALL and named drops after adding ALL', () => {
    expect(capabilitiesFor({ uid: 0, drop: ['ALL'], add: ['CHOWN'], lastCap: 40 }).bounding).toEqual([
      'CAP_CHOWN',
    ]);
    const all = capabilitiesFor({ uid: 0, add: ['ALL'], drop: ['CHOWN'], lastCap: 40 }).bounding;
    expect(all).toHaveLength(40);
    expect(all).not.toContain('CAP_CHOWN');
  });

  it('grants a privileged container every capability up to the kernel’s last one', () => {
    const caps = capabilitiesFor({ uid: 0, privileged: true, drop: ['ALL'], lastCap: 37 });
    expect(caps.bounding).toEqual(CAP_NAMES.slice(0, 38));
  });

  it('gives a non-root process the same sets as root, so file capabilities work; only ambient ones are inherited', () => {
    const plain = capabilitiesFor({ uid: 1000, lastCap: 40 });
    expect(plain.bounding.length).toBeGreaterThan(0);
    expect(plain.effective).toEqual(plain.bounding);
    expect(plain.permitted).toEqual(plain.bounding);
    expect(plain.inheritable).toEqual([]);
    const ambient = capabilitiesFor({
      uid: 1000,
      drop: ['ALL'],
      add: ['NET_BIND_SERVICE'],
      addAmbient: ['NET_BIND_SERVICE'],
      lastCap: 40,
    });
    for (const set of [ambient.effective, ambient.permitted, ambient.inheritable, ambient.ambient]) {
      expect(set).toEqual(['CAP_NET_BIND_SERVICE']);
    }
  });

  it('refuses an ambient capability the container does not have', () => {
    expect(() => capabilitiesFor({ uid: 1000, addAmbient: ['SYS_ADMIN'], lastCap: 40 })).toThrow(
      "Cannot add ambient capability 'CAP_SYS_ADMIN'",
    );
  });

  it('refuses an unknown capability name', () => {
    expect(() => normalizeCapName('FLY')).toThrow("Cannot use capability 'FLY': unknown capability");
    expect(() => capabilitiesFor({ uid: 0, add: ['FLY'] })).toThrow(/unknown capability/);
  });
});
