// Runs the per-call micro-benchmark without a build of the bench: .ts files are transpiled on
// require. Usage: node bench/calls/run.js [cycles] [status calls per cycle] (NODELET_CPU_PROF=<dir> profiles the daemon).
require('../transpile');

require('./loop.ts')
  .main(process.argv.slice(2))
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
