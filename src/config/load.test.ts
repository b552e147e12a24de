import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeletError } from '../common/errors';
import { loadDaemonConfig, parseDaemonConfig } from './load';
import { configReferenceMarkdown } from './reference';

function tempFile(content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-config-'));
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, content);
  return file;
}

afterAll(() => {
  for (const d of fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('nodelet-config-'))) {
    fs.rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true });
  }
});

describe('daemon configuration', () => {
  test('defaults put state in /var/lib/nodelet and the socket in /run/nodelet', () => {
    const cfg = parseDaemonConfig({});
    expect(cfg.stateDir).toBe('/var/lib/nodelet');
    expect(cfg.runDir).toBe('/run/nodelet');
    expect(cfg.socket).toBe('/run/nodelet/nodelet.sock');
    expect(cfg.logLevel).toBe('info');
  });

  test('moving the run dir moves the socket with it, so nothing touches the defaults', () => {
    const cfg = parseDaemonConfig({ runDir: '/tmp/x/run' });
    expect(cfg.socket).toBe('/tmp/x/run/nodelet.sock');
  });

  test('flags override the file, which overrides the defaults', () => {
    const file = tempFile('stateDir: /srv/state\nlogLevel: debug\n');
    const cfg = loadDaemonConfig({ file, overrides: { logLevel: 'warn', socket: '/tmp/s.sock' } });
    expect(cfg.stateDir).toBe('/srv/state');
    expect(cfg.logLevel).toBe('warn');
    expect(cfg.socket).toBe('/tmp/s.sock');
  });

  test('an unknown key is refused with its name, so a typo never passes silently', () => {
    const file = tempFile('stateDri: /srv/state\n');
    expect(() => loadDaemonConfig({ file })).toThrow(/stateDri/);
  });

  test('a value of the wrong kind is refused as an invalid argument naming the key', () => {
    let err: unknown;
    try {
      parseDaemonConfig({ logLevel: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NodeletError);
    expect((err as NodeletError).kind).toBe('InvalidArgument');
    expect((err as Error).message).toMatch(/logLevel/);
  });

  test('a named file that does not exist is an error, the default file may be absent', () => {
    expect(() => loadDaemonConfig({ file: '/nonexistent/nodelet.yaml' })).toThrow(
      /Cannot read configuration/,
    );
  });

  test('malformed YAML is reported with the file name', () => {
    const file = tempFile('stateDir: [unclosed\n');
    expect(() => loadDaemonConfig({ file })).toThrow(new RegExp(`Cannot parse configuration '${file}'`));
  });

  test('docs/configuration.md is the reference the schema writes', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/configuration.md'), 'utf8');
    expect(doc).toBe(configReferenceMarkdown());
  });
});
