// Certificates by CertificateSigningRequest, as the kubelet's certificate manager gets them: a new
// P-256 key, a CSR for a signer, then waiting until someone approves it and the signer issues the
// certificate. The pair is kept in <cert-dir>/kubelet-<client|server>-<timestamp>.pem (certificate
// then key) with kubelet-<client|server>-current.pem a symlink to the newest, and renewed at a random
// point between 70% and 90% of its lifetime (the kubelet's jitter, so a fleet does not renew at once).
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log';
import { runInBackground } from '../../common/background';
import { messageOf } from '../../common/errors';
import { createKeyAndCsr, type CsrSubject } from '../csr';
import type { KubeApi, KubeObject } from './kube_api';

export const CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const POLL_MS = 1000;

export interface CertPair {
  certPem: string;
  keyPem: string;
}

export interface CertRequest {
  signerName: string;
  usages: string[];
  subject: CsrSubject;
}

/** The request of a node's client certificate (system:node:<name> in system:nodes). */
export const clientCertRequest = (nodeName: string): CertRequest => ({
  signerName: CLIENT_SIGNER,
  usages: ['digital signature', 'client auth'],
  subject: { commonName: `system:node:${nodeName}`, organizations: ['system:nodes'] },
});

/** The request of a node's serving certificate, for its host name and addresses. */
export const servingCertRequest = (nodeName: string, addresses: string[]): CertRequest => ({
  signerName: SERVING_SIGNER,
  usages: ['digital signature', 'server auth'],
  subject: {
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    dnsNames: [nodeName],
    ipAddresses: addresses,
  },
});

/** Creates the CSR and waits for its certificate; a denied or failed CSR is an error that names it. */
export async function requestCertificate(
  api: KubeApi,
  request: CertRequest,
  log: Logger,
  isStopped: () => boolean = () => false,
): Promise<CertPair> {
  const { keyPem, csrPem } = createKeyAndCsr(request.subject);
  const created = await api.request('POST', CSR_PATH, {
    body: {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { generateName: 'csr-' },
      spec: {
        request: Buffer.from(csrPem).toString('base64'),
        signerName: request.signerName,
        usages: request.usages,
      },
    },
  });
  const name = created.metadata.name;
  log.info({ csr: name, signer: request.signerName }, 'certificate signing request created; waiting for it');
  for (;;) {
    if (isStopped()) throw new Error(`Cannot get the certificate of CSR '${name}': the agent is stopping`);
    const csr: KubeObject = await api.request('GET', `${CSR_PATH}/${name}`);
    const status = (csr.status ?? {}) as {
      certificate?: string;
      conditions?: { type: string; message?: string }[];
    };
    const refused = status.conditions?.find((c) => c.type === 'Denied' || c.type === 'Failed');
    if (refused)
      throw new Error(
        `Cannot get a certificate: CSR '${name}' was ${refused.type.toLowerCase()}: ${refused.message ?? ''}`,
      );
    if (status.certificate) {
      log.info({ csr: name }, 'certificate issued');
      return { certPem: Buffer.from(status.certificate, 'base64').toString(), keyPem };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** <cert-dir>/kubelet-<kind>-current.pem */
export const currentPairFile = (certDir: string, kind: 'client' | 'server') =>
  path.join(certDir, `kubelet-${kind}-current.pem`);

/** Writes the pair beside the current one and points the symlink at it (rename: never half a switch). */
export function writePair(certDir: string, kind: 'client' | 'server', pair: CertPair): string {
  fs.mkdirSync(certDir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const file = path.join(certDir, `kubelet-${kind}-${stamp}-${process.pid}.pem`);
  fs.writeFileSync(file, pair.certPem.trimEnd() + '\n' + pair.keyPem, { mode: 0o600 });
  const current = currentPairFile(certDir, kind);
  const link = `${current}.tmp-${process.pid}`;
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.basename(file), link);
  fs.renameSync(link, current);
  return current;
}

/** The pair in a combined PEM file, if it exists and its certificate is still valid. */
export function readPair(file: string): (CertPair & { cert: X509Certificate }) | undefined {
  try {
    const pem = fs.readFileSync(file, 'utf8');
    const certPem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem)?.[0];
    const keyPem = /-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]+-----END [A-Z ]*PRIVATE KEY-----/.exec(pem)?.[0];
    if (!certPem || !keyPem) return undefined;
    const cert = new X509Certificate(certPem);
    if (Date.parse(cert.validTo) <= Date.now()) return undefined;
    return { certPem, keyPem: keyPem + '\n', cert };
  } catch {
    return undefined;
  }
}

/** When to renew: notBefore plus 70–90% of the lifetime (the kubelet's nextRotationDeadline). */
export function rotationDeadline(
  cert: { validFrom: string; validTo: string },
  random = Math.random(),
): number {
  const from = Date.parse(cert.validFrom);
  const total = Date.parse(cert.validTo) - from;
  return from + total * (0.7 + 0.2 * random);
}

/**
 * Keeps a certificate fresh: at its rotation deadline, a new CSR (through api()), the pair written,
 * then onRotated. A failed renewal is tried again (5 s doubling to 5 min) while the old one lasts.
 */
export class CertificateRotator {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: {
      kind: 'client' | 'server';
      certDir: string;
      request: CertRequest;
      api: () => KubeApi;
      onRotated: (pair: CertPair) => void;
      log: Logger;
    },
  ) {}

  /** Schedules the renewal of the current pair, or gets one now if there is none. */
  start(): void {
    const pair = readPair(currentPairFile(this.options.certDir, this.options.kind));
    const deadline = pair ? rotationDeadline(pair.cert) : Date.now();
    this.options.log.info(
      { kind: this.options.kind, at: new Date(deadline).toISOString() },
      'certificate rotation scheduled',
    );
    this.schedule(deadline - Date.now(), 5000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number, retryMs: number): void {
    if (this.stopped) return;
    // setTimeout takes at most 2^31-1 ms: a far deadline is reached in steps.
    const wait = Math.max(0, Math.min(ms, 2 ** 31 - 1));
    this.timer = setTimeout(() => {
      if (ms > wait) return this.schedule(ms - wait, retryMs);
      runInBackground(this.options.log, `rotate the ${this.options.kind} certificate`, () =>
        this.rotate(retryMs),
      );
    }, wait);
    this.timer.unref();
  }

  private async rotate(retryMs: number): Promise<void> {
    const { kind, certDir, log } = this.options;
    try {
      const pair = await requestCertificate(
        this.options.api(),
        this.options.request,
        log,
        () => this.stopped,
      );
      if (this.stopped) return;
      writePair(certDir, kind, pair);
      log.info({ kind }, 'certificate rotated');
      this.options.onRotated(pair);
      this.start();
    } catch (err) {
      if (this.stopped) return;
      log.warn({ kind, err: messageOf(err), retryMs }, 'cannot rotate the certificate');
      this.schedule(retryMs, Math.min(retryMs * 2, 300_000));
    }
  }
}
