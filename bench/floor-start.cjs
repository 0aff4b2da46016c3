'use strict';
// The start-up floor of a report (bench/startup.js): what every report of the
// package's command loads before its first system call on the JVM, and
// nothing else. Node's start; dist/bundle.cjs read and compiled with its code
// cache as dist/start.cjs does it, without running it; koffi's native module
// loaded as the bundle loads it (process.dlopen of dist/bundle-assets/koffi.node).
// A report's discovery, capture, analysis and JSON come on top of this.
// Exits 1 when this Node rejects the cache (the floor would then be too high).
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');

const dist = join(__dirname, '..', 'dist');
const file = join(dist, 'bundle.cjs');
const cachedData = readFileSync(`${file}.cache`);
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, { filename: file, cachedData });
if (script.cachedDataRejected) {
  process.stderr.write('floor-start: this Node rejected dist/bundle.cjs.cache\n');
  process.exit(1);
}
script.runInThisContext(); // the bundle's wrapper function, not called
process.dlopen({ exports: {} }, join(dist, 'bundle-assets', 'koffi.node'));
