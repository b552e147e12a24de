// CDI's names (the library's pkg/parser): a kind is "vendor/class", a device is asked for by its
// qualified name "vendor/class=name". Vendor and class start with a letter and end with a letter
// or digit, with letters, digits, '_', '-' and '.' between; a device name may also start with a
// digit and hold ':'. The older way to ask is an annotation "cdi.k8s.io/<key>" whose value lists
// qualified names separated by commas, as containerd and CRI-O still read it.

export const CDI_ANNOTATION_PREFIX = 'cdi.k8s.io/';

export interface QualifiedName {
  vendor: string;
  class: string;
  name: string;
}

const isLetter = (c: string) => /^[A-Za-z]$/.test(c);
const isAlnum = (c: string) => /^[A-Za-z0-9]$/.test(c);

/** Why a vendor or class name is invalid, or undefined when it is valid. */
export function vendorOrClassError(name: string): string | undefined {
  if (name === '') return 'empty name';
  if (!isLetter(name[0]!)) return `'${name}' should start with a letter`;
  for (const c of name.slice(1, -1)) {
    if (!isAlnum(c) && !'_-.'.includes(c)) return `invalid character '${c}' in name '${name}'`;
  }
  if (!isAlnum(name[name.length - 1]!)) return `'${name}' should end with a letter or digit`;
  return undefined;
}

/** Why a device name is invalid, or undefined when it is valid. */
export function deviceNameError(name: string): string | undefined {
  if (name === '') return 'empty device name';
  if (!isAlnum(name[0]!)) return `device name '${name}' should start with a letter or digit`;
  for (const c of name.slice(1, -1)) {
    if (!isAlnum(c) && !'_-.:'.includes(c)) return `invalid character '${c}' in device name '${name}'`;
  }
  if (!isAlnum(name[name.length - 1]!)) return `device name '${name}' should end with a letter or digit`;
  return undefined;
}

/** "vendor/class" split at its first '/', or undefined when a part is missing. */
export function parseKind(kind: string): { vendor: string; class: string } | undefined {
  const slash = kind.indexOf('/');
  if (slash <= 0 || slash === kind.length - 1) return undefined;
  return { vendor: kind.slice(0, slash), class: kind.slice(slash + 1) };
}

/** Why a kind is invalid, or undefined when it is valid. */
export function kindError(kind: string): string | undefined {
  const parsed = parseKind(kind);
  if (!parsed) return `kind '${kind}' is not of the form vendor/class`;
  return vendorOrClassError(parsed.vendor) ?? vendorOrClassError(parsed.class);
}

/** A qualified device name taken apart, or the reason it is not one. */
export function parseQualifiedName(device: string): QualifiedName | { error: string } {
  const eq = device.indexOf('=');
  if (eq < 0) return { error: 'missing device name, expected vendor/class=name' };
  const kind = device.slice(0, eq);
  const name = device.slice(eq + 1);
  const parsed = parseKind(kind);
  if (!parsed) return { error: `'${kind}' is not of the form vendor/class` };
  const error =
    vendorOrClassError(parsed.vendor) ?? vendorOrClassError(parsed.class) ?? deviceNameError(name);
  return error ? { error } : { ...parsed, name };
}

export const qualifiedName = (kind: string, name: string) => `${kind}=${name}`;

/**
 * The devices a container asks for: the CRI's CDI_devices first, then the annotations' (keys in
 * order, so the result does not depend on map order), each once, as containerd's WithCDI lists them.
 */
export function requestedDevices(
  cdiDevices: readonly { name: string }[],
  annotations: Readonly<Record<string, string>>,
): string[] {
  const seen = new Set<string>();
  for (const d of cdiDevices) seen.add(d.name);
  for (const key of Object.keys(annotations).sort()) {
    if (!key.startsWith(CDI_ANNOTATION_PREFIX)) continue;
    for (const d of annotations[key]!.split(',')) seen.add(d);
  }
  return [...seen];
}
