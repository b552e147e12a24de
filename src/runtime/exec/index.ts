// Exec: another process inside a running container.
export { execInContainer } from './launcher';
export type { ExecProcess, ExecProcessSpec, ExecStdio, ExitStatus } from './launcher';
