import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeAtomicVolume } from './atomic_volume';

let dir: string;
beforeEach(() => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-atomic-')), 'vol');
});
afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

const file = (p: string, content: string, mode = 0o644) => ({ path: p, content: Buffer.from(content), mode });
const payloadDirs = () => fs.readdirSync(dir).filter((n) => /^\.\.\d{4}_/.test(n));

describe('writeAtomicVolume', () => {
  test('lays the files out as the kubelet does: a payload dir, ..data, and links through it', () => {
    expect(writeAtomicVolume('cfg', dir, [file('app.conf', 'a=1'), file('nested/x.txt', 'x', 0o600)])).toBe(
      true,
    );
    expect(fs.readlinkSync(path.join(dir, '..data'))).toBe(payloadDirs()[0]);
    expect(fs.readlinkSync(path.join(dir, 'app.conf'))).toBe('..data/app.conf');
    expect(fs.readlinkSync(path.join(dir, 'nested'))).toBe('..data/nested');
    expect(fs.readFileSync(path.join(dir, 'app.conf'), 'utf8')).toBe('a=1');
    expect(fs.statSync(path.join(dir, 'nested/x.txt')).mode & 0o777).toBe(0o600);
  });

  test('writes nothing when the payload is unchanged', () => {
    writeAtomicVolume('cfg', dir, [file('a', '1')]);
    const before = payloadDirs();
    expect(writeAtomicVolume('cfg', dir, [file('a', '1')])).toBe(false);
    expect(payloadDirs()).toEqual(before);
  });

  test('swaps to a new payload, drops names that left it and removes the old payload', () => {
    writeAtomicVolume('cfg', dir, [file('a', '1'), file('b', '2')]);
    const [old] = payloadDirs();
    expect(writeAtomicVolume('cfg', dir, [file('a', 'changed'), file('c', '3')])).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('changed');
    expect(fs.readFileSync(path.join(dir, 'c'), 'utf8')).toBe('3');
    expect(fs.existsSync(path.join(dir, 'b'))).toBe(false);
    expect(payloadDirs()).not.toContain(old);
    expect(payloadDirs()).toHaveLength(1);
  });

  test('a mode change alone is a change', () => {
    writeAtomicVolume('cfg', dir, [file('a', '1', 0o644)]);
    expect(writeAtomicVolume('cfg', dir, [file('a', '1', 0o400)])).toBe(true);
    expect(fs.statSync(path.join(dir, 'a')).mode & 0o777).toBe(0o400);
  });

  test('replaces plain files left by an older layout with the links', () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'a'), 'old');
    writeAtomicVolume('cfg', dir, [file('a', 'new')]);
    expect(fs.lstatSync(path.join(dir, 'a')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('new');
  });

  test.each(['../escape', '/abs', '..data', 'a//b', ''])('refuses the path %j and changes nothing', (p) => {
    writeAtomicVolume('cfg', dir, [file('a', '1')]);
    const before = fs.readdirSync(dir).sort();
    expect(() => writeAtomicVolume('cfg', dir, [file(p, 'x')])).toThrow(/Cannot write volume 'cfg'/);
    expect(fs.readdirSync(dir).sort()).toEqual(before);
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('1');
  });
});

describe('writeAtomicVolume keeping house', () => {
  test('leaves what it did not make alone (a subPath directory), and restores links a crash lost', () => {
    writeAtomicVolume('cfg', dir, [file('a', '1'), file('b', '2')]);
    fs.mkdirSync(path.join(dir, 'made-for-a-subpath'));
    fs.rmSync(path.join(dir, 'b')); // as if a crash came between the swap and the links
    expect(writeAtomicVolume('cfg', dir, [file('a', '1'), file('b', '2')])).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'b'), 'utf8')).toBe('2');
    writeAtomicVolume('cfg', dir, [file('a', '3')]);
    expect(fs.existsSync(path.join(dir, 'made-for-a-subpath'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'b'))).toBe(false);
  });
});
