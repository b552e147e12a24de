import { DAEMON_NODE_FLAGS, MONITOR_NODE_FLAGS, missingNodeFlags } from './node_flags';

describe('missingNodeFlags', () => {
  it('names every wanted flag when Node was started without flags', () => {
    expect(missingNodeFlags(['--max-semi-space-size=1', '--lite-mode'], [])).toEqual([
      '--max-semi-space-size=1',
      '--lite-mode',
    ]);
  });

  it('names nothing once the flags are on the command line, so a re-executed daemon goes on', () => {
    expect(missingNodeFlags(DAEMON_NODE_FLAGS, [...DAEMON_NODE_FLAGS])).toEqual([]);
    expect(missingNodeFlags(MONITOR_NODE_FLAGS, ['--cpu-prof', ...MONITOR_NODE_FLAGS])).toEqual([]);
  });

  it("keeps the caller's own value of a flag, spelled with dashes or underscores", () => {
    expect(missingNodeFlags(['--max-semi-space-size=1'], ['--max-semi-space-size=16'])).toEqual([]);
    expect(missingNodeFlags(['--max-semi-space-size=1'], ['--max_semi_space_size=4'])).toEqual([]);
  });
});
