// The handful of eBPF instructions a device filter is made of, encoded as struct bpf_insn:
// u8 opcode, u8 (src_reg << 4 | dst_reg), s16 offset, s32 immediate, little-endian.
// Jump offsets count instructions from the one after the jump.

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

export interface Insn {
  code: number;
  dst: Reg;
  src: Reg;
  off: number;
  imm: number;
}

// Opcode = operation | source (K: immediate, X: register) | class.
const BPF_LDX = 0x01;
const BPF_JMP = 0x05;
const BPF_ALU64 = 0x07;
const BPF_W = 0x00;
const BPF_MEM = 0x60;
const BPF_K = 0x00;
const BPF_X = 0x08;

export const OP = {
  AND: 0x50,
  RSH: 0x70,
  MOV: 0xb0,
  JEQ: 0x10,
  JNE: 0x50,
  EXIT: 0x90,
} as const;

const insn = (code: number, dst: Reg, src: Reg, off: number, imm: number): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** dst = *(u32 *)(src + off) */
export const ldxW = (dst: Reg, src: Reg, off: number) => insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
/** dst op= imm (64-bit ALU) */
export const aluImm = (op: number, dst: Reg, imm: number) => insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
/** dst = src */
export const movReg = (dst: Reg, src: Reg) => insn(BPF_ALU64 | OP.MOV | BPF_X, dst, src, 0, 0);
/** if (dst op imm) skip `off` instructions */
export const jmpImm = (op: number, dst: Reg, imm: number, off: number) =>
  insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
/** if (dst op src) skip `off` instructions */
export const jmpReg = (op: number, dst: Reg, src: Reg, off: number) =>
  insn(BPF_JMP | op | BPF_X, dst, src, off, 0);
export const exit = () => insn(BPF_JMP | OP.EXIT, 0, 0, 0, 0);

/** The instructions as the bytes bpf(BPF_PROG_LOAD) takes. */
export function encode(program: readonly Insn[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((i, n) => {
    if (i.off < -32768 || i.off > 32767)
      throw new Error(`Cannot encode BPF instruction ${n}: offset ${i.off}`);
    out.writeUInt8(i.code, n * 8);
    out.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    out.writeInt16LE(i.off, n * 8 + 2);
    out.writeInt32LE(i.imm | 0, n * 8 + 4);
  });
  return out;
}

/** Class and operation of an opcode, for readers of encoded programs (the unit tests' interpreter). */
export function decodeOpcode(code: number): { cls: number; op: number; fromReg: boolean } {
  return { cls: code & 0x07, op: code & 0xf0, fromReg: (code & BPF_X) !== 0 };
}

export const CLASS = { LDX: BPF_LDX, JMP: BPF_JMP, ALU64: BPF_ALU64 } as const;
