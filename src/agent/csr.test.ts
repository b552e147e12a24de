import { spawnSync } from 'node:child_process';
import { createKeyAndCsr } from './csr';

function opensslText(csrPem: string): string {
  const r = spawnSync('openssl', ['req', '-verify', '-noout', '-text'], { input: csrPem, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout + r.stderr;
}

describe('createKeyAndCsr', () => {
  test('a client CSR carries O and CN and a valid signature', () => {
    const { csrPem, keyPem } = createKeyAndCsr({
      commonName: 'system:node:n1',
      organizations: ['system:nodes'],
    });
    expect(keyPem).toMatch(/BEGIN PRIVATE KEY/);
    const text = opensslText(csrPem);
    expect(text).toMatch(/verify OK/i);
    expect(text).toMatch(/O\s*=\s*system:nodes, CN\s*=\s*system:node:n1/);
    expect(text).toMatch(/prime256v1|P-256/);
  });

  test('a serving CSR asks for its DNS names and IP addresses', () => {
    const { csrPem } = createKeyAndCsr({
      commonName: 'system:node:n1',
      organizations: ['system:nodes'],
      dnsNames: ['n1'],
      ipAddresses: ['127.0.0.1', 'fd00::1'],
    });
    const text = opensslText(csrPem);
    expect(text).toMatch(/DNS:n1, IP Address:127.0.0.1, IP Address:FD00:0:0:0:0:0:0:1/);
  });
});
