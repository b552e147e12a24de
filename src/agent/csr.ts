// A PKCS#10 certificate signing request (RFC 2986) for an ECDSA P-256 key, the kind of key the
// kubelet makes for its client and serving certificates. Node's crypto signs but cannot build a CSR,
// so the few DER structures it takes are written here: a subject of O= and CN=, and for a serving
// certificate the subjectAltName extension (DNS names and IP addresses) in an extensionRequest.
import crypto from 'node:crypto';
import { isIP } from 'node:net';

function der(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

const utf8 = (s: string) => der(0x0c, Buffer.from(s, 'utf8'));

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write the eight 16-bit groups.
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

export interface CsrSubject {
  commonName: string;
  organizations: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

/** A new P-256 key (PKCS#8 PEM) and a CSR for it (PEM), signed with it. */
export function createKeyAndCsr(subject: CsrSubject): { keyPem: string; csrPem: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = seq(
    ...subject.organizations.map((o) => set(seq(oid('2.5.4.10'), utf8(o)))),
    set(seq(oid('2.5.4.3'), utf8(subject.commonName))),
  );
  const altNames = [
    ...(subject.dnsNames ?? []).map((d) => der(0x82, Buffer.from(d, 'ascii'))),
    ...(subject.ipAddresses ?? []).map((ip) => der(0x87, ipBytes(ip))),
  ];
  const extensionRequest = altNames.length
    ? seq(oid('1.2.840.113549.1.9.14'), set(seq(seq(oid('2.5.29.17'), der(0x04, seq(...altNames))))))
    : undefined;
  const attributes = der(0xa0, extensionRequest ?? Buffer.alloc(0));
  const info = seq(der(0x02, Buffer.from([0])), name, spki, attributes);
  const signature = crypto.sign('sha256', info, privateKey);
  const csr = seq(
    info,
    seq(oid('1.2.840.10045.4.3.2')),
    der(0x03, Buffer.concat([Buffer.from([0]), signature])),
  );
  const lines = csr.toString('base64').match(/.{1,64}/g) ?? [];
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`,
  };
}
