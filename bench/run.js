// `npm run bench` runs this after `npm run gen`. It builds dist/ first (the nodelet daemon runs from
// there); type errors are reported but do not stop the bench, since tsc emits dist/ anyway. The
// bench's .ts files and the test/support harness are transpiled on require (typescript's
// transpileModule, no type checking: that is `npm run typecheck`'s job). Must run as root.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/* global __dirname */
const root = path.resolve(__dirname, '..');
const tsc = spawnSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) console.warn('bench: the build reported errors (above); dist/ was emitted anyway');
const cli = path.join(root, 'dist', 'cli', 'main.js');
if (!fs.existsSync(cli)) {
  console.error(`Cannot run the bench: ${cli} was not built`);
  process.exit(1);
}
fs.chmodSync(cli, 0o755);

require('./transpile');

require('./main.ts')
  .main()
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
