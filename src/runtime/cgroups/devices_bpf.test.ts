import { ALL_DEVICES, DEFAULT_DEVICE_RULES } from './devices';
import {
  ACC_MKNOD,
  ACC_READ,
  ACC_WRITE,
  DEV_BLOCK,
  DEV_CHAR,
  deviceFilterOf,
  deviceFilterProgram,
} from './devices_bpf';
import { CLASS, OP, decodeOpcode, encode, type Insn } from './ebpf_asm';
import type { DeviceRule } from '../spec/types';

/**
 * Runs a device program as the kernel would for one access, on the encoded bytes (so the encoder
 * is exercised too). Knows only the instructions the generator emits.
 */
function run(program: Insn[], type: 'c' | 'b', major: number, minor: number, access: string): boolean {
  const bytes = encode(program);
  const ctx = Buffer.alloc(12);
  let bits = 0;
  for (const c of access) bits |= c === 'r' ? ACC_READ : c === 'w' ? ACC_WRITE : ACC_MKNOD;
  ctx.writeUInt32LE((bits << 16) | (type === 'c' ? DEV_CHAR : DEV_BLOCK), 0);
  ctx.writeUInt32LE(major, 4);
  ctx.writeUInt32LE(minor, 8);
  const r: number[] = new Array(11).fill(0);
  for (let pc = 0; pc < program.length; pc++) {
    const code = bytes[pc * 8];
    const dst = bytes[pc * 8 + 1] & 0x0f;
    const src = bytes[pc * 8 + 1] >> 4;
    const off = bytes.readInt16LE(pc * 8 + 2);
    const imm = bytes.readInt32LE(pc * 8 + 4);
    const { cls, op, fromReg } = decodeOpcode(code);
    const operand = fromReg ? r[src] : imm;
    if (cls === CLASS.LDX) {
      expect(src).toBe(1); // only the context is read
      r[dst] = ctx.readUInt32LE(off);
    } else if (cls === CLASS.ALU64) {
      if (op === OP.MOV) r[dst] = operand;
      else if (op === OP.AND) r[dst] = (r[dst] & operand) >>> 0;
      else if (op === OP.RSH) r[dst] = r[dst] >>> operand;
      else throw new Error(`unexpected ALU op ${op}`);
    } else if (cls === CLASS.JMP) {
      if (op === OP.EXIT) return r[0] === 1;
      if ((op === OP.JNE && r[dst] !== operand) || (op === OP.JEQ && r[dst] === operand)) pc += off;
    } else {
      throw new Error(`unexpected instruction class ${cls}`);
    }
  }
  throw new Error('the program ran off its end');
}

const allows = (rules: readonly DeviceRule[], dev: string, access: string) => {
  const [type, numbers] = dev.split(' ');
  const [major, minor] = numbers.split(':').map(Number);
  return run(deviceFilterProgram(rules), type as 'c' | 'b', major, minor, access);
};

describe('the cgroup v2 device program', () => {
  test('of the default rules lets a container open /dev/null, /dev/zero, ptys and tun, and nothing else', () => {
    for (const dev of ['c 1:3', 'c 1:5', 'c 1:9', 'c 5:2', 'c 136:7', 'c 10:200']) {
      expect(allows(DEFAULT_DEVICE_RULES, dev, 'rw')).toBe(true);
    }
    for (const dev of ['c 1:1', 'c 1:11', 'c 4:0', 'c 10:229', 'b 8:0', 'b 7:0']) {
      expect(allows(DEFAULT_DEVICE_RULES, dev, 'r')).toBe(false);
    }
  });

  test('of the default rules allows mknod of any node but not opening what it made', () => {
    expect(allows(DEFAULT_DEVICE_RULES, 'b 8:0', 'm')).toBe(true);
    expect(allows(DEFAULT_DEVICE_RULES, 'c 4:0', 'm')).toBe(true);
    expect(allows(DEFAULT_DEVICE_RULES, 'b 8:0', 'rw')).toBe(false);
  });

  test('of a privileged container allows every device', () => {
    expect(allows(ALL_DEVICES, 'b 8:0', 'rwm')).toBe(true);
    expect(allows(ALL_DEVICES, 'c 1:1', 'r')).toBe(true);
  });

  test('allows an access only when the rule has every letter asked for', () => {
    const rules: DeviceRule[] = [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
    ];
    expect(allows(rules, 'c 1:3', 'r')).toBe(true);
    expect(allows(rules, 'c 1:3', 'rw')).toBe(false);
    expect(allows(rules, 'c 1:3', 'm')).toBe(false);
  });

  test('lets the last matching rule decide, with wildcards for major, minor and type', () => {
    const rules: DeviceRule[] = [
      { allow: true, access: 'rwm' },
      { allow: false, type: 'b', access: 'rwm' },
      { allow: true, type: 'b', major: 7, access: 'r' },
      { allow: false, type: 'a', major: 7, minor: 3, access: 'w' },
    ];
    expect(allows(rules, 'c 4:0', 'rw')).toBe(true);
    expect(allows(rules, 'b 8:0', 'r')).toBe(false);
    expect(allows(rules, 'b 7:1', 'r')).toBe(true);
    expect(allows(rules, 'b 7:3', 'r')).toBe(true);
    expect(allows(rules, 'b 7:3', 'rw')).toBe(false);
    expect(allows(rules, 'c 7:3', 'w')).toBe(false);
  });

  test('merges rules for the same device as the v1 controller does', () => {
    const rules: DeviceRule[] = [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'wm' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'm' },
    ];
    expect(allows(rules, 'c 1:3', 'rw')).toBe(true);
    expect(allows(rules, 'c 1:3', 'm')).toBe(false);
    expect(deviceFilterOf(rules).exceptions).toHaveLength(2);
  });

  test('a rule for every device resets what came before it', () => {
    const rules: DeviceRule[] = [
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: false, type: 'a', access: 'rwm' },
    ];
    expect(deviceFilterOf(rules)).toEqual({ defaultAllow: false, exceptions: [] });
    expect(allows(rules, 'c 1:3', 'r')).toBe(false);
  });

  test('refuses an access string with other letters than r, w and m', () => {
    expect(() => deviceFilterProgram([{ allow: true, type: 'c', access: 'rx' }])).toThrow(
      /Cannot build a device filter: access 'rx'/,
    );
  });
});
