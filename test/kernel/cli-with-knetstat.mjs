// Runs the built CLI (dist/cli/main.js) with the knetstat source registered,
// for builds whose src/sources/index.ts does not register it yet. Used by
// guest-checks.mjs (check 2) only as a fallback; same arguments as the CLI.
const root = new URL('../../dist/', import.meta.url);
const { registerSource } = await import(new URL('sources/index.js', root));
const { KnetstatSource } = await import(new URL('sources/knetstat.js', root));
registerSource('knetstat', () => new KnetstatSource());
const { main } = await import(new URL('cli/main.js', root));
await main(process.argv);
