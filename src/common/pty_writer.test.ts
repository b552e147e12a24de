import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { openPty, type PtyPair } from '../runtime/sys';
import { PtyWriter } from './pty_writer';

const MIB = 1024 * 1024;

/** A pty whose slave is in raw mode without echo: nothing is dropped, and nothing reads it yet. */
function rawPty(): PtyPair {
  const pty = openPty('/dev/ptmx');
  const stty = spawnSync('stty', ['raw', '-echo'], { stdio: [pty.slave, 'ignore', 'inherit'] });
  if (stty.status !== 0) throw new Error('Cannot put the test pty in raw mode');
  return pty;
}

describe('PtyWriter', () => {
  const openFds = () => fs.readdirSync('/proc/self/fd').length;

  it('queues what a terminal that does not read cannot take, asks for back-pressure, and delivers it all once it reads', async () => {
    const pty = rawPty();
    const writer = new PtyWriter(pty.master, 5);
    let drained = 0;
    // Returning at all shows the write did not wait for the terminal.
    expect(writer.write(Buffer.alloc(MIB, 'x'), () => drained++)).toBe(false);
    expect(writer.pending).toBeGreaterThan(0);
    expect(drained).toBe(0);

    const reader = spawn('sh', ['-c', `head -c ${MIB} | wc -c`], { stdio: [pty.slave, 'pipe', 'inherit'] });
    let counted = '';
    reader.stdout!.on('data', (chunk: Buffer) => (counted += chunk.toString()));
    await new Promise((resolve) => reader.once('close', resolve));
    expect(counted.trim()).toBe(String(MIB));
    expect(drained).toBe(1);
    expect(writer.pending).toBe(0);
    writer.release();
    fs.closeSync(pty.slave);
  });

  it('drops what is queued when released, and lets the waiting writer go', () => {
    const before = openFds();
    const pty = rawPty();
    const writer = new PtyWriter(pty.master, 5);
    let drained = 0;
    expect(writer.write(Buffer.alloc(MIB, 'x'), () => drained++)).toBe(false);
    writer.release();
    expect(drained).toBe(1);
    expect(writer.pending).toBe(0);
    expect(writer.write(Buffer.from('later'), () => drained++)).toBe(true);
    fs.closeSync(pty.slave);
    expect(openFds()).toBe(before);
  });
});
