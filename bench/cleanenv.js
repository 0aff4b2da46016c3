// Every bench runs the tool, `node -e 0` and the other measured commands in the
// environment a host's root shell has: the variables that change what Node does
// before any script runs are removed from this process's environment (children
// inherit it) as soon as a bench imports this module. NODE_EXTRA_CA_CERTS makes
// every Node start read and parse that CA bundle (+~38 ms on a host whose Node
// starts in ~25 ms): it inflates `node -e 0`, the ratios' denominator, and so
// flatters every ratio. What was removed is written beside the figures.
export const START_VARS = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'NODE_ICU_DATA', 'NODE_V8_COVERAGE', 'NODE_DEBUG', 'NODE_DEBUG_NATIVE', 'NODE_COMPILE_CACHE', 'NODE_REPL_EXTERNAL_MODULE', 'OPENSSL_CONF'];

/** The variables removed, with their values (name → value). */
export const removed = Object.fromEntries(START_VARS.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
for (const k of Object.keys(removed)) delete process.env[k];

/** One sentence for results.md. */
export function envNote() {
  const names = Object.keys(removed);
  return names.length === 0
    ? 'Environment: none of the variables that change Node\'s start was set.'
    : `Environment: ${names.map((k) => `\`${k}\``).join(', ')} ${names.length > 1 ? 'were' : 'was'} set here and removed for every command measured (tool and \`node -e 0\` alike), as on a host whose root shell does not set ${names.length > 1 ? 'them' : 'it'}.`;
}
