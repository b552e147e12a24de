import { ExpositionBuffer } from './exposition';

describe('ExpositionBuffer', () => {
  test('grows past its first size and keeps every byte in order', () => {
    const out = new ExpositionBuffer(0);
    for (let i = 0; i < 1000; i++) {
      out.bytes(Buffer.from('m{a="é"} '));
      out.value(i);
      out.text('\n');
    }
    const lines = out.result().toString().split('\n');
    expect(lines[0]).toBe('m{a="é"} 0');
    expect(lines[999]).toBe('m{a="é"} 999');
  });

  test('writes non-finite values as the text format spells them', () => {
    const out = new ExpositionBuffer();
    for (const v of [NaN, Infinity, -Infinity, 0.5]) {
      out.value(v);
      out.text(' ');
    }
    expect(out.result().toString()).toBe('NaN +Inf -Inf 0.5 ');
  });
});
