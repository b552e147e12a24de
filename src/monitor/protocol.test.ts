import { encode, LineDecoder, PROTOCOL_VERSION } from './protocol';
import { exitFromStatus } from './records';

function decoderWithLog() {
  const messages: unknown[] = [];
  const errors: string[] = [];
  const decoder = new LineDecoder(
    (m) => messages.push(m),
    (e) => errors.push(e.message),
  );
  return { decoder, messages, errors };
}

describe('the monitor protocol', () => {
  it('round-trips a request through encode and the line decoder', () => {
    const { decoder, messages } = decoderWithLog();
    const request = { v: PROTOCOL_VERSION, id: 7, op: 'start' as const, params: { id: 'c1' } };
    decoder.push(encode(request));
    expect(messages).toEqual([request]);
  });

  it('reassembles messages split across chunks and separates several in one chunk', () => {
    const { decoder, messages } = decoderWithLog();
    const a = encode({ v: PROTOCOL_VERSION, id: 1, op: 'list', params: {} });
    const b = encode({ v: PROTOCOL_VERSION, id: 2, op: 'status', params: { id: 'x' } });
    const both = a + b;
    decoder.push(both.slice(0, 5));
    expect(messages).toEqual([]);
    decoder.push(both.slice(5));
    expect(messages.map((m) => (m as { id: number }).id)).toEqual([1, 2]);
  });

  it('reports a line of another protocol version and still reads the next one', () => {
    const { decoder, messages, errors } = decoderWithLog();
    decoder.push('{"v":99,"id":1,"op":"list","params":{}}\n');
    decoder.push(encode({ v: PROTOCOL_VERSION, id: 2, op: 'list', params: {} }));
    expect(errors[0]).toMatch(/protocol version 99, expected 1/);
    expect(messages).toHaveLength(1);
  });

  it('reports a line that is not JSON', () => {
    const { decoder, errors } = decoderWithLog();
    decoder.push('not json\n');
    expect(errors[0]).toMatch(/^Cannot read monitor message 'not json'/);
  });
});

describe('exit records', () => {
  it('report a clean exit as Completed and a failing one as Error with its code', () => {
    expect(exitFromStatus(0, null, 5n)).toEqual({ exitCode: 0, finishedAt: '5', reason: 'Completed' });
    expect(exitFromStatus(3, null, 5n)).toEqual({ exitCode: 3, finishedAt: '5', reason: 'Error' });
  });

  it('report a death by signal as 128 plus the signal number', () => {
    expect(exitFromStatus(null, 'SIGKILL', 5n)).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    expect(exitFromStatus(null, 'SIGTERM', 5n)).toMatchObject({ exitCode: 143 });
  });
});
