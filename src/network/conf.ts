// Finding and reading the network config, as libcni does: in a conf dir, `*.conflist`, `*.conf`
// and `*.json` files, and the first by name wins. A single-plugin `.conf` becomes a one-entry list.
import fs from 'node:fs';
import path from 'node:path';
import { findPlugin } from './exec';

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface NetworkConfList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConf[];
}

export interface LoadedNetwork {
  file: string;
  list: NetworkConfList;
}

const EXTENSIONS = ['.conflist', '.conf', '.json'];

/** The config files of a dir in the order libcni tries them; [] when the dir is missing. */
export function configFiles(confDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(confDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => EXTENSIONS.includes(path.extname(n)))
    .sort()
    .map((n) => path.join(confDir, n));
}

/** Reads one config file; throws "Cannot load CNI config '<file>': <why>". */
function loadConfFile(file: string): NetworkConfList {
  const fail = (why: string) => new Error(`Cannot load CNI config '${file}': ${why}`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw fail('not a JSON object');
  if (typeof doc.name !== 'string' || !doc.name) throw fail('it has no "name"');
  const cniVersion = typeof doc.cniVersion === 'string' ? doc.cniVersion : '';
  let plugins: PluginConf[];
  if (Array.isArray(doc.plugins)) {
    plugins = doc.plugins as PluginConf[];
  } else if (typeof doc.type === 'string') {
    // A single-plugin .conf: its own keys, minus the list-level ones, are the plugin's config.
    const { name: _name, cniVersion: _v, ...plugin } = doc;
    plugins = [plugin as PluginConf];
  } else {
    throw fail('it has neither "plugins" nor "type"');
  }
  if (plugins.length === 0) throw fail('"plugins" is empty');
  for (const p of plugins) {
    if (typeof p !== 'object' || p === null || typeof p.type !== 'string' || !p.type) {
      throw fail('a plugin has no "type"');
    }
  }
  return { cniVersion, name: doc.name, disableCheck: doc.disableCheck === true, plugins };
}

/**
 * The network nodelet uses: the first config file that loads, looking through the dirs in order
 * (the administrator's conf dir, then nodelet's own default).
 */
export function loadNetwork(confDirs: string[]): LoadedNetwork {
  const files = confDirs.flatMap(configFiles);
  if (files.length === 0) {
    throw new Error(`Cannot find a CNI network config in ${confDirs.map((d) => `'${d}'`).join(' or ')}`);
  }
  const errors: string[] = [];
  for (const file of files) {
    try {
      return { file, list: loadConfFile(file) };
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  throw new Error(errors.join('; '));
}

/** The plugin types of a list that no bin dir holds as an executable. */
export function missingPlugins(list: NetworkConfList, binDirs: string[]): string[] {
  return [...new Set(list.plugins.map((p) => p.type))].filter((t) => !findPlugin(t, binDirs));
}
