// config.dump and spec.dump of a checkpoint archive: written from a container record, read back
// (with a schema: an archive is outside input) when a container is restored from one. The field
// names are CRI-O's (its ContainerConfig metadata and the OCI spec with CRI-O's annotations), so
// checkpointctl and CRI-O read our archives, and we read theirs as far as a restore needs.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { invalidArgument } from '../common/errors';
import { parseWith } from '../common/schema';
import { CONFIG_DUMP_FILE, SPEC_DUMP_FILE } from '../runtime';
import type { ContainerRecord, SandboxRecord } from './store';

const RUNTIME = 'nodelet';

function rfc3339(ns: bigint | string): string {
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
}

/** checkpointctl's ContainerConfig (id, name, rootfsImageName, runtime, createdTime) and CRI-O's additions. */
export function checkpointConfigOf(rec: ContainerRecord, checkpointedAt: bigint) {
  return {
    id: rec.id,
    name: rec.name,
    rootfsImage: rec.image.spec,
    rootfsImageRef: rec.image.id,
    rootfsImageName: rec.image.userSpecified,
    runtime: RUNTIME,
    createdTime: rfc3339(rec.createdAt),
    checkpointedTime: rfc3339(checkpointedAt),
    restoredTime: '0001-01-01T00:00:00Z',
    restored: false,
  };
}

/** The container's spec in the OCI shape, with the annotations CRI-O and the kubelet set. */
export function ociSpecOf(rec: ContainerRecord, pod: SandboxRecord | undefined) {
  const meta = pod?.config.metadata;
  const { spec } = rec;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.process.terminal,
      user: {
        uid: spec.process.user.uid,
        gid: spec.process.user.gid,
        additionalGids: spec.process.user.additionalGids,
      },
      args: spec.process.args,
      env: spec.process.env,
      cwd: spec.process.cwd,
      capabilities: spec.process.capabilities,
      noNewPrivileges: spec.process.noNewPrivileges,
    },
    root: { path: 'rootfs', readonly: spec.root.readonly },
    hostname: spec.hostname,
    mounts: spec.mounts,
    annotations: {
      ...rec.annotations,
      'io.container.manager': RUNTIME,
      'io.kubernetes.container.name': rec.metadata.name,
      'io.kubernetes.pod.name': meta?.name ?? '',
      'io.kubernetes.pod.namespace': meta?.namespace ?? '',
      'io.kubernetes.pod.uid': meta?.uid ?? '',
      'io.kubernetes.cri-o.ContainerID': rec.id,
      'io.kubernetes.cri-o.Name': rec.name,
      'io.kubernetes.cri-o.SandboxID': rec.sandboxId,
      'io.kubernetes.cri-o.Metadata': JSON.stringify(rec.metadata),
      'io.kubernetes.cri-o.Labels': JSON.stringify(rec.labels),
      'io.kubernetes.cri-o.Annotations': JSON.stringify(rec.annotations),
      'io.kubernetes.cri-o.ImageName': rec.image.userSpecified,
      'io.kubernetes.cri-o.ImageRef': rec.image.id,
      'io.kubernetes.cri-o.LogPath': rec.logPath,
      'io.kubernetes.cri-o.TTY': String(rec.tty),
      'io.kubernetes.cri-o.Stdin': String(rec.stdin),
      'io.kubernetes.cri-o.StdinOnce': String(rec.stdinOnce),
    },
    linux: {
      namespaces: spec.linux.namespaces,
      maskedPaths: spec.linux.maskedPaths,
      readonlyPaths: spec.linux.readonlyPaths,
      cgroupsPath: spec.linux.cgroupsPath,
    },
  };
}

const configDumpSchema = z.object({
  id: z.string(),
  name: z.string(),
  rootfsImage: z.string().optional(),
  rootfsImageRef: z.string().optional(),
  rootfsImageName: z.string().optional(),
});

const specDumpSchema = z.object({
  process: z
    .object({
      args: z.array(z.string()).optional(),
      env: z.array(z.string()).optional(),
      cwd: z.string().optional(),
      terminal: z.boolean().optional(),
    })
    .optional(),
});

export interface CheckpointArchive {
  config: z.output<typeof configDumpSchema>;
  spec: z.output<typeof specDumpSchema>;
}

/** Reads config.dump and spec.dump of an unpacked archive; refuses what is not one. */
export function readCheckpointArchive(dir: string, archive: string): CheckpointArchive {
  const read = <S extends z.ZodTypeAny>(name: string, schema: S): z.output<S> => {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      throw invalidArgument(
        `Cannot restore from '${archive}': it has no ${name}, so it is not a checkpoint archive`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      throw invalidArgument(`Cannot restore from '${archive}': ${name} is not JSON`);
    }
    return parseWith(schema, value, (issues) =>
      invalidArgument(`Cannot restore from '${archive}': ${name}: ${issues}`),
    );
  };
  return { config: read(CONFIG_DUMP_FILE, configDumpSchema), spec: read(SPEC_DUMP_FILE, specDumpSchema) };
}
