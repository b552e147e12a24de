// Reads the daemon's configuration: the YAML file first, then command-line flags over it.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { invalidArgument } from '../common/errors';
import { daemonConfigSchema, DaemonConfig, DaemonConfigInput, DEFAULT_CONFIG_FILE } from './schema';

export interface LoadOptions {
  /** A file named explicitly must exist; the default file may be absent. */
  file?: string;
  overrides?: Partial<DaemonConfigInput>;
}

export function loadDaemonConfig(options: LoadOptions = {}): DaemonConfig {
  const fromFile = readConfigFile(options.file);
  const merged = { ...fromFile, ...dropUndefined(options.overrides ?? {}) };
  return parseDaemonConfig(merged, options.file ?? DEFAULT_CONFIG_FILE);
}

export function parseDaemonConfig(input: unknown, source = 'configuration'): DaemonConfig {
  const result = daemonConfigSchema.safeParse(input);
  if (!result.success) {
    throw invalidArgument(`Cannot load ${source}: ${formatIssues(result.error)}`);
  }
  const cfg = result.data;
  return { ...cfg, socket: cfg.socket ?? path.join(cfg.runDir, 'nodelet.sock') };
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  const name = file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = fs.readFileSync(name, 'utf8');
  } catch (err) {
    if (file === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw invalidArgument(`Cannot read configuration '${name}': ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw invalidArgument(`Cannot parse configuration '${name}': ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw invalidArgument(`Cannot load configuration '${name}': the top level must be a mapping`);
  }
  return doc as Record<string, unknown>;
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
