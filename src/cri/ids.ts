// Pod and container ids: 64 hex characters, as containerd and CRI-O make them.
import crypto from 'node:crypto';

export function newId(): string {
  return crypto.randomBytes(32).toString('hex');
}

/** true when every key=value of the selector is among the labels. */
export function matchesLabels(
  labels: Record<string, string>,
  selector?: Record<string, string> | null,
): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
