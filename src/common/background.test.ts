import pino from 'pino';
import { backgroundOrigin, exitOnUnhandledRejection, runInBackground } from './background';

/** A logger whose lines the test reads back. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('runInBackground', () => {
  it('logs a rejected promise as an error naming the work, with the stack', async () => {
    const { log, lines } = capturedLog();
    runInBackground(log, 'refresh the stats', Promise.reject(new Error('cgroup gone')));
    await settle();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      background: 'refresh the stats',
      msg: 'Background work failed: refresh the stats',
      err: { message: 'cgroup gone' },
    });
    expect((lines[0].err as { stack: string }).stack).toContain('cgroup gone');
  });

  it('calls a function at once and logs what it throws before its first await', async () => {
    const { log, lines } = capturedLog();
    let called = false;
    runInBackground(log, 'remove the pod', () => {
      called = true;
      throw new Error('bad uid');
    });
    expect(called).toBe(true);
    await settle();
    expect(lines[0]).toMatchObject({ background: 'remove the pod', err: { message: 'bad uid' } });
  });

  it('logs nothing when the work succeeds', async () => {
    const { log, lines } = capturedLog();
    runInBackground(log, 'post the status', async () => 'posted');
    runInBackground(log, 'post the status', Promise.resolve());
    await settle();
    expect(lines).toEqual([]);
  });

  it('remembers what work an error came from', async () => {
    const { log } = capturedLog();
    const err = new Error('boom');
    runInBackground(log, 'reconcile mirror pods', Promise.reject(err));
    await settle();
    expect(backgroundOrigin(err)).toBe('reconcile mirror pods');
    expect(backgroundOrigin(new Error('other'))).toBeUndefined();
    expect(backgroundOrigin('a string')).toBeUndefined();
  });
});

describe('exitOnUnhandledRejection', () => {
  it('logs the reason with its stack and exits with status 1, as Node does', async () => {
    const { log, lines } = capturedLog();
    const exits: number[] = [];
    const stop = exitOnUnhandledRejection(log, (code) => exits.push(code));
    try {
      process.emit('unhandledRejection', new Error('lost a promise'), Promise.resolve());
    } finally {
      stop();
    }
    expect(exits).toEqual([1]);
    expect(lines[0]).toMatchObject({ level: 60, msg: 'Unhandled promise rejection; exiting' });
    expect(lines[0].stack).toContain('lost a promise');
  });

  it('names the background work the error came from', async () => {
    const { log, lines } = capturedLog();
    const err = new Error('watch failed');
    runInBackground(log, 'watch pods', Promise.reject(err));
    await settle();
    const stop = exitOnUnhandledRejection(log, () => undefined);
    try {
      process.emit('unhandledRejection', err, Promise.resolve());
    } finally {
      stop();
    }
    expect(lines[1]).toMatchObject({ background: 'watch pods', msg: 'Unhandled promise rejection; exiting' });
  });
});
