import { PassThrough } from 'node:stream';
import { resizeReader, statusPayload, type TerminalSize } from './remotecommand';

describe('the status on the error stream', () => {
  it('is a v4 Success for exit code 0', () => {
    expect(JSON.parse(statusPayload('v4.channel.k8s.io', { exitCode: 0 }, 'x').toString())).toEqual({
      metadata: {},
      status: 'Success',
    });
  });

  it('carries a non-zero exit code as the ExitCode cause, as client-go reads it', () => {
    const status = JSON.parse(
      statusPayload('v5.channel.k8s.io', { exitCode: 3 }, 'command [false]').toString(),
    );
    expect(status).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('is plain text before v4, and empty on success', () => {
    expect(statusPayload('v3.channel.k8s.io', { exitCode: 0 }, 'x').length).toBe(0);
    expect(statusPayload('v2.channel.k8s.io', { error: 'boom' }, 'x').toString()).toBe('boom');
  });
});

describe('the resize stream', () => {
  it('reads sizes split across chunks and skips malformed ones', () => {
    const source = new PassThrough();
    const sizes: TerminalSize[] = [];
    resizeReader(source, (s) => sizes.push(s));
    source.write('{"Width":80,"Hei');
    source.write('ght":24}\n{"bad"}\n{"Width":120,"Height":40}\n');
    expect(sizes).toEqual([
      { cols: 80, rows: 24 },
      { cols: 120, rows: 40 },
    ]);
  });
});
