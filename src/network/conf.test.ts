import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configFiles, loadNetwork } from './conf';
import { parseIpv4Cidr } from './default_conflist';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-conf-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, body: unknown) =>
  fs.writeFileSync(path.join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));

describe('CNI config loading', () => {
  test('config files are taken by name, and other extensions are ignored', () => {
    write('20-b.conf', {});
    write('10-a.conflist', {});
    write('05-notes.txt', 'x');
    expect(configFiles(dir).map((f) => path.basename(f))).toEqual(['10-a.conflist', '20-b.conf']);
    expect(configFiles(path.join(dir, 'missing'))).toEqual([]);
  });

  test('a single-plugin .conf becomes a list of one plugin', () => {
    write('10-one.conf', { cniVersion: '1.0.0', name: 'one', type: 'bridge', bridge: 'br9' });
    expect(loadNetwork([dir]).list).toEqual({
      cniVersion: '1.0.0',
      name: 'one',
      disableCheck: false,
      plugins: [{ type: 'bridge', bridge: 'br9' }],
    });
  });

  test('a broken file is skipped for the next one, and all broken says why', () => {
    write('10-broken.conflist', '{ nope');
    write('20-empty.conflist', { name: 'x', plugins: [] });
    expect(() => loadNetwork([dir])).toThrow(
      /10-broken.conflist.*; .*20-empty.conflist': "plugins" is empty/,
    );
    write('30-good.conflist', { cniVersion: '1.0.0', name: 'good', plugins: [{ type: 'loopback' }] });
    expect(loadNetwork([dir]).list.name).toBe('good');
  });

  test('dirs are searched in order, and a missing one is no error', () => {
    const second = path.join(dir, 'second');
    fs.mkdirSync(second);
    fs.writeFileSync(
      path.join(second, '99-z.conflist'),
      JSON.stringify({ name: 'z', plugins: [{ type: 'x' }] }),
    );
    expect(loadNetwork([path.join(dir, 'missing'), second]).list.name).toBe('z');
    write('99-a.conflist', { name: 'a', plugins: [{ type: 'x' }] });
    expect(loadNetwork([dir, second]).list.name).toBe('a');
  });

  test('pod CIDRs are normalised to their network address', () => {
    expect(parseIpv4Cidr('10.88.7.1/16')).toBe('10.88.0.0/16');
    expect(() => parseIpv4Cidr('10.88.0.0')).toThrow(/Cannot use pod CIDR/);
    expect(() => parseIpv4Cidr('300.1.1.1/8')).toThrow(/Cannot use pod CIDR/);
  });
});
