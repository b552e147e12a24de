// The CPU one pull costs the process that pulls, without the side-by-side setup: the image
// subsystem in this process (no daemon, no containerd), the bench's ~100 MB image from a local
// registry, each decompression mode in turn. Usage (root): node bench/pull/run.js [pulls] [random|hex]
require('../transpile');

require('./pull_cpu.ts')
  .main(process.argv.slice(2))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
