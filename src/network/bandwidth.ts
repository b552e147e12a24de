// The pod annotations kubernetes.io/ingress-bandwidth and kubernetes.io/egress-bandwidth, turned
// into the bandwidth plugin's runtimeConfig as the kubelet and containerd do: the values are
// Kubernetes quantities in bits per second ("10M", "1Gi"), between 1k and 1P.
import { invalidArgument } from '../common/errors';
import { parseQuantity as parseKubeQuantity } from '../common/quantity';

export const INGRESS_ANNOTATION = 'kubernetes.io/ingress-bandwidth';
export const EGRESS_ANNOTATION = 'kubernetes.io/egress-bandwidth';

/** The bandwidth plugin's runtimeConfig.bandwidth (rates and bursts in bits). */
export interface BandwidthLimits {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

const MIN_RATE = 1e3;
const MAX_RATE = 1e15;
// containerd's choice: a burst so large that only the rate limits (the plugin takes it in bits).
const BURST = 0xffffffff;

/** Undefined when neither annotation is set. Throws InvalidArgument for a bad value. */
export function bandwidthFromAnnotations(annotations: Record<string, string>): BandwidthLimits | undefined {
  const ingress = annotations[INGRESS_ANNOTATION];
  const egress = annotations[EGRESS_ANNOTATION];
  if (ingress === undefined && egress === undefined) return undefined;
  const limits: BandwidthLimits = {};
  if (ingress !== undefined) {
    limits.ingressRate = rateOf(INGRESS_ANNOTATION, ingress);
    limits.ingressBurst = BURST;
  }
  if (egress !== undefined) {
    limits.egressRate = rateOf(EGRESS_ANNOTATION, egress);
    limits.egressBurst = BURST;
  }
  return limits;
}

function rateOf(annotation: string, value: string): number {
  const bits = parseQuantity(value);
  if (bits === undefined) {
    throw invalidArgument(
      `Cannot use annotation ${annotation}='${value}': not a quantity such as 10M or 1Gi`,
    );
  }
  if (bits < MIN_RATE || bits > MAX_RATE) {
    throw invalidArgument(
      `Cannot use annotation ${annotation}='${value}': the rate must be between 1k and 1P bits/s`,
    );
  }
  return bits;
}

/** A Kubernetes quantity as an integer, rounded up as Quantity.Value() does; undefined if malformed. */
export function parseQuantity(text: string): number | undefined {
  let value: number;
  try {
    value = Math.ceil(parseKubeQuantity(text) - 1e-9);
  } catch {
    return undefined;
  }
  return Number.isFinite(value) ? value : undefined;
}
