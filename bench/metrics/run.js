// Runs a TypeScript benchmark of this folder without a build: .ts files are transpiled on require
// (typescript's transpileModule, no type checking). Usage: node bench/metrics/run.js [containers]
require('../transpile');

require('./scrape.ts')
  .main(process.argv.slice(2))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
