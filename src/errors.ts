// Typed errors. Library code throws these; only the CLI entry turns them into
// exit codes and one-line messages (see README "Exit codes").

export const EXIT = {
  OK: 0,
  /** check: some rule failed. */
  CHECK_FAILED: 1,
  /** Bad input: pid, file, flag, policy; or a process we may not even look at. */
  USAGE: 2,
  /** A report was produced but some data could not be read (permissions, kernel). */
  PARTIAL: 3,
  /** Internal error: a bug. */
  INTERNAL: 70,
} as const;

export class KnetstatError extends Error {
  readonly exitCode: number;
  readonly errno?: string;
  readonly remedy?: string;
  constructor(message: string, opts: { exitCode?: number; errno?: string; remedy?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? EXIT.USAGE;
    this.errno = opts.errno;
    this.remedy = opts.remedy;
  }
}

/** Bad command-line input: pid, flag, file. */
export class UsageError extends KnetstatError {}

/** The target process cannot be inspected (gone, zombie, not ours). */
export class TargetError extends KnetstatError {}

/** A file we were asked to read (snapshot, policy, knetstat table) is malformed. */
export class FormatError extends KnetstatError {}

/** A system call failed; keeps the errno name. */
export class SysError extends KnetstatError {
  readonly syscall: string;
  readonly code: number;
  constructor(syscall: string, code: number, message?: string, opts: { remedy?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message ?? `${syscall} failed: ${errnoName(code)}`, { errno: errnoName(code), ...opts });
    this.syscall = syscall;
    this.code = code;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES',
  14: 'EFAULT', 22: 'EINVAL', 24: 'EMFILE', 38: 'ENOSYS', 88: 'ENOTSOCK', 92: 'ENOPROTOOPT',
  93: 'EPROTONOSUPPORT', 95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 107: 'ENOTCONN',
};

export function errnoName(code: number): string {
  return ERRNO_NAMES[code] ?? `errno ${code}`;
}

/** Node's fs errors carry .code ("ENOENT"); map them to our names. */
export function fsCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * --observe could not observe the JVM (attach disabled, no JFR, no answer in
 * time, the process exited, not permitted). `kind` says which; the exit code
 * is PARTIAL (3) when the rest of the report still stands, USAGE (2) for bad input.
 */
export class ObserveError extends KnetstatError {
  readonly kind: ObserveErrorKind;
  constructor(message: string, opts: { kind: ObserveErrorKind; exitCode?: number; errno?: string; remedy?: string; cause?: unknown }) {
    super(message, { exitCode: EXIT.PARTIAL, ...opts });
    this.kind = opts.kind;
  }
}

export type ObserveErrorKind =
  | 'attach-disabled' | 'no-jfr' | 'timeout' | 'exited' | 'not-permitted' | 'no-sigquit'
  | 'no-access' | 'bogus-socket' | 'jfr' | 'helper' | 'interrupted' | 'too-big' | 'usage' | 'not-hotspot';
