// The serving certificate of the kubelet API: the configured --tls-cert-file/--tls-private-key-file,
// or, as the kubelet does without them, a self-signed one for the node's name and addresses kept in
// <cert-dir>/kubelet.crt and kubelet.key and reused on the next start. Node's crypto cannot make an
// X.509 certificate, so the `openssl` command makes it.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface ServingCertOptions {
  certFile?: string;
  keyFile?: string;
  /** Where a self-signed pair is kept. */
  certDir: string;
  nodeName: string;
  addresses: string[];
}

export interface ServingCert {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  selfSigned: boolean;
}

function coversNode(certPem: Buffer, names: string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const alt = cert.subjectAltName ?? '';
    return cert.validTo && Date.parse(cert.validTo) > Date.now()
      ? names.every((n) => alt.includes(`:${n}`))
      : false;
  } catch {
    return false;
  }
}

function subjectAltNames(nodeName: string, addresses: string[]): string {
  const isIp = (a: string) => /^[\d.]+$/.test(a) || a.includes(':');
  const dns = [nodeName, 'localhost'].map((n) => `DNS:${n}`);
  const ips = [...new Set(['127.0.0.1', ...addresses])].filter(isIp).map((a) => `IP:${a}`);
  return [...dns, ...ips].join(',');
}

export function loadServingCert(options: ServingCertOptions): ServingCert {
  if (options.certFile || options.keyFile) {
    if (!options.certFile || !options.keyFile)
      throw new Error('Cannot serve the kubelet API: give both --tls-cert-file and --tls-private-key-file');
    return {
      cert: fs.readFileSync(options.certFile),
      key: fs.readFileSync(options.keyFile),
      certFile: options.certFile,
      selfSigned: false,
    };
  }
  const certFile = path.join(options.certDir, 'kubelet.crt');
  const keyFile = path.join(options.certDir, 'kubelet.key');
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    const cert = fs.readFileSync(certFile);
    if (coversNode(cert, [options.nodeName]))
      return { cert, key: fs.readFileSync(keyFile), certFile, selfSigned: true };
  }
  fs.mkdirSync(options.certDir, { recursive: true, mode: 0o700 });
  // Written beside and renamed, so a crash never leaves a key without its certificate.
  const tmpCert = `${certFile}.tmp-${process.pid}`;
  const tmpKey = `${keyFile}.tmp-${process.pid}`;
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '365',
        '-subj',
        `/CN=${options.nodeName}@${Math.floor(Date.now() / 1000)}`,
        '-addext',
        `subjectAltName=${subjectAltNames(options.nodeName, options.addresses)}`,
        '-keyout',
        tmpKey,
        '-out',
        tmpCert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    fs.chmodSync(tmpKey, 0o600);
    fs.renameSync(tmpKey, keyFile);
    fs.renameSync(tmpCert, certFile);
  } catch (err) {
    fs.rmSync(tmpCert, { force: true });
    fs.rmSync(tmpKey, { force: true });
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(`Cannot create a self-signed serving certificate in '${options.certDir}': ${detail}`);
  }
  return { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), certFile, selfSigned: true };
}
