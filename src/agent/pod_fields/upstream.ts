// The Pod API's own field list, from @kubernetes/client-node's generated models (V1PodSpec and the
// types it reaches, with each field's type), so the table names every field, those the schema
// refuses by leaving them out included. client-node is an ES module that the unit tests' module
// system cannot load: it is read in a child Node process, which can.
import { execFileSync } from 'node:child_process';

export interface UpstreamField {
  name: string;
  /** client-node's type text: `string`, `V1Probe`, `Array<V1Container>`, `{ [key: string]: string; }`. */
  type: string;
}

export type UpstreamTypes = Record<string, UpstreamField[]>;

export const UPSTREAM_ROOT = 'V1PodSpec';

const DUMP = `
const k = require('@kubernetes/client-node');
const out = {};
const walk = (t) => {
  if (out[t] || !k[t] || typeof k[t].getAttributeTypeMap !== 'function') return;
  out[t] = k[t].getAttributeTypeMap().map((a) => ({ name: a.name, type: a.type }));
  for (const a of out[t]) {
    const m = /^(?:Array<)?([A-Z]\\w+)>?$/.exec(a.type);
    if (m) walk(m[1]);
  }
};
walk(${JSON.stringify(UPSTREAM_ROOT)});
process.stdout.write(JSON.stringify(out));
`;

let loaded: UpstreamTypes | undefined;

/** Read once per process: the child takes a while to load client-node. */
export function loadUpstreamTypes(): UpstreamTypes {
  if (loaded) return loaded;
  const text = execFileSync(process.execPath, ['-e', DUMP], {
    cwd: __dirname,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  loaded = JSON.parse(text) as UpstreamTypes;
  return loaded;
}

/** The model a field's type names (`Array<V1Container>` is V1Container), if any. */
export function modelOf(type: string | undefined): string | undefined {
  return type ? /^(?:Array<)?([A-Z]\w+)>?$/.exec(type)?.[1] : undefined;
}
