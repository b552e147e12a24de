// Runs the engine benchmark without a build of this folder: .ts files are transpiled on require
// (typescript's transpileModule, no type checking). The container init itself runs from dist/, so
// build first: npx tsc -p tsconfig.build.json. Usage (root): node bench/engine/run.js [runs]
require('../transpile');

require('./start_latency.ts')
  .main(process.argv.slice(2))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
