// The tool's name and version, from package.json (one place: --version, snapshots, reports).
import { readAssetText } from './assets.js';

// package.json is an asset: a file here, its name and version embedded in the bundles.
const pkg = JSON.parse(readAssetText('package.json')) as { name: string; version: string };
export const TOOL = { name: pkg.name, version: pkg.version };
