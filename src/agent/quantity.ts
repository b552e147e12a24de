// Kubernetes resource quantities ("250m", "1.5", "128Mi", "1G", "2e3") as numbers: CPU in
// millicores, everything else in plain units (bytes for memory).
import { parseQuantity } from '../common/quantity';

export { parseQuantity };

/** CPU as whole millicores, rounded up as the kubelet does ("0.0001" is 1m). */
export function cpuMillis(q: string | number): number {
  return Math.ceil(Math.round(parseQuantity(q) * 1e6) / 1e3);
}

/** Memory and other byte-valued resources, rounded up to a whole byte. */
export function bytes(q: string | number): number {
  return Math.ceil(parseQuantity(q));
}
