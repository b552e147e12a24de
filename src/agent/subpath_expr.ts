// A volumeMount's subPath as the kubelet's makeMounts settles it: subPathExpr is expanded from the
// container's environment ($(VAR); $$ is a dollar), where a variable that is unset or empty is an
// error naming it (the kubelet's ExpandContainerVolumeMounts); then subPath or the expansion must be
// relative and without "..". Each failure is a CreateContainerConfigError: the container waits and
// the next sync tries again, so an expansion that failed can succeed once the pod's annotations change.
import path from 'node:path';
import { ContainerConfigError } from './container_config_error';
import { expandVars } from './env';

/** The part of a volumeMount that says where in the volume it starts. */
export interface SubPathFields {
  subPath?: string;
  subPathExpr?: string;
}

/** The subPath to bind ('' for the volume's root), or a ContainerConfigError in the kubelet's words. */
export function settleSubPath(m: SubPathFields, env: ReadonlyMap<string, string>): string {
  let subPath = m.subPath ?? '';
  if (m.subPathExpr) {
    const missing = new Set<string>();
    const lookup = {
      has: () => true,
      get: (name: string) => {
        const value = env.get(name) ?? '';
        if (value === '') missing.add(name);
        return value;
      },
    };
    subPath = expandVars(m.subPathExpr, lookup) ?? '';
    if (missing.size > 0)
      throw new ContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  }
  if (subPath === '') return '';
  if (path.isAbsolute(subPath))
    throw new ContainerConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split('/').includes('..'))
    throw new ContainerConfigError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  return subPath;
}
