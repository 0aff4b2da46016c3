// Typed errors. Library code throws these, keeping errno and cause; only the
// CLI (src/cli/exit.ts) turns them into exit codes and one-line messages (see
// README "Exit codes").
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

export class KnetstatError extends Error {
  /** errno name ("EACCES") when a system call or file read failed. */
  readonly errno?: string;
  /** What the user can do about it, printed in parentheses after the message. */
  readonly remedy?: string;
  constructor(message: string, opts: { errno?: string; remedy?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.errno = opts.errno;
    this.remedy = opts.remedy;
  }
}

/** Bad command-line input: pid, flag, file. */
export class UsageError extends KnetstatError {}

/** The target process cannot be inspected (gone, zombie, not ours). */
export class TargetError extends KnetstatError {}

/** Malformed input: a file we were asked to read (snapshot, policy, knetstat table), or a kernel table or message. */
export class FormatError extends KnetstatError {}

/** A system call failed; keeps the errno number and name. */
export class SysError extends KnetstatError {
  readonly syscall: string;
  readonly code: number;
  constructor(syscall: string, code: number, message?: string, opts: { remedy?: string; cause?: unknown } = {}) {
    super(message ?? `${syscall} failed: ${errnoName(code)}`, { errno: errnoName(code), ...opts });
    this.syscall = syscall;
    this.code = code;
  }
}

/**
 * A failure after which the tool's own state cannot be trusted (it could not
 * return to its own network namespace): nothing more may be read, no source
 * may catch it and go on.
 */
export class FatalSysError extends SysError {}

/**
 * --probe-jdk could not measure the target JDK's defaults: no java there, a JDK older than the
 * probe's classes, no safe way to run it as the target's user, or a probe JVM that did not start
 * or did not answer as the probe. The report is made with the shipped table instead (exit 3).
 */
export class ProbeError extends KnetstatError {}

/**
 * errno number -> name, from Node's tables for this platform (os.constants.errno,
 * then libuv's map for the few it lacks): no copy of ours. Of two names for one
 * number the kernel's is kept: glibc's ENOTSUP and EWOULDBLOCK are aliases of
 * EOPNOTSUPP and EAGAIN (what strace prints, and what the kernel returns).
 */
let ERRNO_NAMES: Map<number, string> | undefined;
let SYSTEM_ERRORS: Map<number, [string, string]> | undefined;
/** Built at the first error, not at start-up. */
function tables(): { names: Map<number, string>; system: Map<number, [string, string]> } {
  if (!ERRNO_NAMES || !SYSTEM_ERRORS) {
    ERRNO_NAMES = new Map();
    for (const [name, n] of Object.entries(constants.errno)) {
      if (name !== 'ENOTSUP' && name !== 'EWOULDBLOCK' && !ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);
    }
    SYSTEM_ERRORS = getSystemErrorMap();
  }
  return { names: ERRNO_NAMES, system: SYSTEM_ERRORS };
}

/** "EACCES" for 13. */
export function errnoName(code: number): string {
  const t = tables();
  return t.names.get(code) ?? t.system.get(-code)?.[0] ?? `errno ${code}`;
}

/** "ENOSPC (no space left on device)" for "ENOSPC", from Node's tables; the bare name when they have no text for it. */
export function errnoText(name: string): string {
  const n = (constants.errno as Record<string, number | undefined>)[name];
  const text = n === undefined ? undefined : tables().system.get(-n)?.[1];
  return text ? `${name} (${text})` : name;
}

/** Node's fs errors carry .code ("ENOENT"); map them to our names. */
export function fsCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * --observe could not observe the JVM: attach disabled, no JFR, no answer in
 * time, the process exited, not permitted... `kind` says which. The report
 * itself still stands without the observation (the CLI warns and exits 3),
 * except for 'not-permitted': the caller may not act on this JVM at all.
 */
export class ObserveError extends KnetstatError {
  readonly kind: ObserveErrorKind;
  constructor(message: string, opts: { kind: ObserveErrorKind; errno?: string; remedy?: string; cause?: unknown }) {
    super(message, opts);
    this.kind = opts.kind;
  }
}

export type ObserveErrorKind =
  | 'attach-disabled' | 'no-jfr' | 'timeout' | 'exited' | 'not-permitted' | 'no-sigquit'
  | 'no-access' | 'bogus-socket' | 'jfr' | 'helper' | 'interrupted' | 'too-big' | 'not-hotspot';
