// Whether a command line captures a live process through the bpf source (the
// default wherever it can run): the bundles' preambles ask, before the command
// line is built, so that the BPF object (~30 ms: the kernel's BTF, CO-RE, the
// verifier) starts loading on a worker thread at once, not after the command
// line and the report's modules. A guess that errs towards no: only the usual
// forms (a pid first, or after check/snapshot, then the common options) say
// yes; anything else loads where the capture starts, as without the guess. A
// yes for a run that then captures nothing costs one unused load (its fds go
// at exit), never a different result.
const WITH_VALUE = new Set(['-f', '--format', '-o', '--output', '--observe', '-p', '--policy', '-e', '--expect']);
const FLAGS = new Set(['-q', '--quiet', '--any', '--probe-jdk', '--redact']);
const PID = /^[1-9][0-9]{0,9}$/;

export function capturesThroughBpf(args: readonly string[]): boolean {
  const at = args[0] === 'check' || args[0] === 'snapshot' ? 1 : 0;
  if (!PID.test(args[at] ?? '')) return false;
  for (let i = at + 1; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (name === '-s' || name === '--source') {
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value !== 'auto' && value !== 'bpf') return false;
    } else if (WITH_VALUE.has(name)) {
      if (eq < 0) i++;
    } else if (eq > 0 || !FLAGS.has(a)) {
      return false;
    }
  }
  return true;
}

/**
 * Called by the bundles' preambles once assets and packages are installed: a
 * capture through bpf starts loading the object when the bundle's top level
 * has run (bpfwalk is imported on demand: other commands never initialise it).
 */
export function startEarly(args: readonly string[]): void {
  if (capturesThroughBpf(args)) void import('../linux/bpfwalk.js').then((m) => m.startProcessWalkLoad());
}
