// The module scripts/bundle.mjs generates for the bundles' preambles (never on disk).
declare module 'knetstat:assets' {
  /** Text assets (mappings/*.json, package.json's name and version), carried inside the bundle's code. */
  export const texts: [name: string, text: string][];
  /** Binary assets that need a path (koffi.node, ...): beside dist/bundle.cjs, or SEA assets of the executable. */
  export const files: string[];
}
