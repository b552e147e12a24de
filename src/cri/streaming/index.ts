// The streaming server for Exec, Attach and PortForward (SPDY/3.1 and WebSocket).
//
//   StreamingServer.start({ address, tls?, backend, log }): Promise<StreamingServer>
//   server.urlFor(request): string      absolute, single-use URL of a stored request
//   server.url / server.close()
//   StreamingBackend                     what the CRI layer provides: exec, attach, portForward
export { StreamingServer, type StreamingBackend, type StreamingServerOptions } from './server';
export { TokenCache, type StreamingRequest } from './tokens';
export type { SessionIo, SessionResult, TerminalSize } from './remotecommand';
export { runExecSession } from './exec_session';
export { runAttachSession, type AttachTarget } from './attach_session';
