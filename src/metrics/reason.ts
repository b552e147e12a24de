// The `reason` label of failure counters. Label values must come from a small set, or every new
// error message would create a new series forever: an error is reduced to its kind (NodeletError)
// or its errno name (SysError), and anything else to a short sanitised word.

const MAX_LENGTH = 32;

export function reasonLabel(reason: unknown): string {
  if (reason instanceof Error) {
    const { kind, code } = reason as Error & { kind?: unknown; code?: unknown };
    if (typeof kind === 'string') return kind;
    // SysError and Node's system errors carry the errno name ("ENOENT") in `code`.
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
    return 'Unknown';
  }
  if (typeof reason !== 'string') return 'Unknown';
  const word = reason.replace(/[^A-Za-z0-9_]+/g, '_').slice(0, MAX_LENGTH);
  return word.replace(/^_+|_+$/g, '') || 'Unknown';
}
