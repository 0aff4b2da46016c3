// Loads the data tables under mappings/, once. They are data, not code: each
// row says where its fact comes from (its `source`), and test/unit/mappings.test.ts
// (and, where a JVM is needed, the real-JVM suite) checks them. To add a table:
// a JSON file with an "about" and rows that carry a source, its shape below,
// a field of mappings(), a test. Read as assets (src/assets.ts): files in a
// checkout or an install, embedded in the bundles.
import { hasAsset, PACKAGE_ROOT, readAssetText } from './assets.js';
import type { OptionValue, Role, Unobservable } from './model/types.js';

export const PROJECT_ROOT = PACKAGE_ROOT;

function load<T>(name: string): T {
  return JSON.parse(readAssetText(`mappings/${name}`)) as T;
}

export type OptType = 'int' | 'bool' | 'linger' | 'timeval' | 'string';

export interface KernelOption {
  name: string;
  level: string;
  levelNum: number;
  optname: number;
  type: OptType;
  unit?: string;
  protocols: ('tcp' | 'udp')[];
  families: (4 | 6)[];
  states?: string[];
  header: string;
}

export interface JavaTemplate {
  classic?: string;
  /** Which class has the classic setter when it is not the group's main one (MulticastSocket). */
  classicOn?: 'multicast';
  option?: string;
  nioCall?: string;
  note?: string;
}

export interface JavaOption {
  option: string;
  value: 'bool' | 'half' | 'linger' | 'hex' | 'int' | 'notbool';
  java: Partial<Record<'socket' | 'server' | 'datagram', JavaTemplate>>;
  listener?: string;
  native?: string;
  dynamic?: string;
  source: string;
}

export interface JavaApi {
  classes: Record<'socket' | 'server' | 'datagram', { classic: string; nio: string; async?: string; multicast?: string }>;
  options: JavaOption[];
}

export type { JdkDefaults as JdkDefaultRow } from './model/types.js';
import type { JdkDefaults as JdkDefaultRow } from './model/types.js';

export interface FrameworkHint {
  option: string;
  roles?: string[];
  match: { value?: number | 'somaxconn'; lingerMultipleOf?: number };
  hint: string;
  source: string;
}

/** A row of kernel-defaults.json: a fresh socket's value of an option whose default does not depend on the host. */
export interface KernelDefaultRow {
  option: string;
  value: OptionValue;
  source: string;
}

/** socket-kinds.json: the Java kinds that can have made a socket of a role. */
export type JavaGroup = 'socket' | 'server' | 'datagram';
export interface SocketKind {
  /** The name jdk-defaults.json rows use ("ServerSocket", "accepted Socket" ...). */
  kind: string;
  api: string;
  /** The java-api.json group its calls are written in, when not its role's (an unconnected ServerSocket's). */
  group?: JavaGroup;
  /** Accepted kinds: the listener kind and class whose accept() makes them. */
  listener?: { kind: string; api: string };
  source: string;
}
export interface RoleKinds {
  group: JavaGroup;
  kinds: SocketKind[];
}

/** sysctl-defaults.json: the sysctl an option's value equals when it is the host's default. */
export interface SysctlRule {
  option: string;
  sysctl: string;
  /** Which number of a triple (tcp_rmem "4096 131072 6291456"); absent: the whole value. */
  index?: number;
  protocols: ('tcp' | 'udp')[];
  /** The report's systemDefault text, {v} for the value. */
  text: string;
  source: string;
}

/** jdk-facts.json: what one JDK feature release does, measured (samples/java/JdkFacts.java). */
export interface JdkFacts {
  feature: number;
  /** Class (java.net.Socket ...) -> the option names its supportedOptions() lists (StandardSocketOptions / ExtendedSocketOptions names). */
  supportedOptions: Record<string, Set<string>>;
  /** Class -> the O_NONBLOCK values its fd was measured with, in any of the ways of using it that were measured. */
  nonBlocking: Record<string, Set<boolean>>;
  /** Names (comm, digits as N) of the default asynchronous channel group's threads. */
  newThreads: string[];
}

/** libraries.json: which library a stack frame's class belongs to (--observe names the code that reads). */
export interface LibraryRow {
  /** A package or class name: matches it and what is under it (at a '.' or '$'). */
  prefix: string;
  library: string;
  /** An I/O helper other libraries build on (Okio under OkHttp): a non-io match further down the stack wins. */
  layer?: 'io';
  source: string;
}

export interface Mappings {
  kernel: KernelOption[];
  java: JavaApi;
  jdk: JdkDefaultRow[];
  hints: FrameworkHint[];
  /** Option -> a fresh socket's value (kernel-defaults.json). */
  kernelDefaults: Record<string, OptionValue>;
  /** Options an accepted socket copies from its listener (inherited-options.json). */
  inherited: Set<string>;
  kinds: Record<Role, RoleKinds>;
  /** Per role, the calls no option shows (unobservable.json): one shared, read-only list per role, as reports carry it. */
  unobservable: Record<Role, Unobservable[]>;
  /** ip_tos2prio: SO_PRIORITY after IP_TOS, by (tos & 0x1e) >> 1 (tos-priority.json). */
  tosPriority: number[];
  sysctlRules: SysctlRule[];
  /** jdk-facts.json by feature release, ascending. */
  jdkFacts: JdkFacts[];
  /** Longest prefix first (libraries.json). */
  libraries: LibraryRow[];
  /** Per measured JDK feature release, whether an fd has O_NONBLOCK after each way of using it (jdk-facts.json's nonblocking). */
  jdkNonBlocking: Record<number, Record<string, boolean>>;
}

const SIMPLE_CLASS: Record<string, string> = {
  Socket: 'java.net.Socket', ServerSocket: 'java.net.ServerSocket', DatagramSocket: 'java.net.DatagramSocket', MulticastSocket: 'java.net.MulticastSocket',
  SocketChannel: 'java.nio.channels.SocketChannel', ServerSocketChannel: 'java.nio.channels.ServerSocketChannel', DatagramChannel: 'java.nio.channels.DatagramChannel',
  AsynchronousSocketChannel: 'java.nio.channels.AsynchronousSocketChannel', AsynchronousServerSocketChannel: 'java.nio.channels.AsynchronousServerSocketChannel',
};

interface JdkFactsFile {
  jdks: Record<string, { measuredOn: { feature: number }; supportedOptions: Record<string, string[]>; nonblocking: Record<string, boolean>; newThreads: string[] }>;
}

function loadJdkFacts(): JdkFacts[] {
  const file = load<JdkFactsFile>('jdk-facts.json');
  return Object.values(file.jdks).map((j) => {
    const nonBlocking: Record<string, Set<boolean>> = {};
    // Each measured situation is named after the class first ("SocketChannel configureBlocking(false)").
    for (const [what, v] of Object.entries(j.nonblocking)) {
      const cls = SIMPLE_CLASS[what.split(' ')[0]!];
      if (cls) (nonBlocking[cls] ??= new Set()).add(v);
    }
    // A MulticastSocket is a DatagramSocket: whatever sets O_NONBLOCK on one does on the other.
    for (const v of nonBlocking['java.net.DatagramSocket'] ?? []) (nonBlocking['java.net.MulticastSocket'] ??= new Set()).add(v);
    return {
      feature: j.measuredOn.feature,
      supportedOptions: Object.fromEntries(Object.entries(j.supportedOptions).map(([c, o]) => [c, new Set(o)])),
      nonBlocking,
      newThreads: j.newThreads,
    };
  }).sort((a, b) => a.feature - b.feature);
}

/** The measured facts that apply to a JDK: its own release's, else the newest older one, else the oldest measured; undefined without a table. */
export function jdkFactsFor(feature: number | undefined): JdkFacts | undefined {
  const all = mappings().jdkFacts;
  if (!all.length) return undefined;
  if (feature === undefined) return all[0];
  return [...all].reverse().find((f) => f.feature <= feature) ?? all[0];
}

let cache: Mappings | undefined;

export function mappings(): Mappings {
  if (!cache) {
    const unobservable = load<{ roles: Record<Role, (Unobservable & { source: string })[]> }>('unobservable.json').roles;
    const prio = load<{ priorities: { tosBits: number; priority: number }[] }>('tos-priority.json').priorities;
    cache = {
      kernel: load<{ options: KernelOption[] }>('kernel-options.json').options,
      java: load<JavaApi>('java-api.json'),
      jdk: hasAsset('mappings/jdk-defaults.json') ? load<{ rows: JdkDefaultRow[] }>('jdk-defaults.json').rows ?? [] : [],
      hints: hasAsset('mappings/framework-hints.json') ? load<{ hints: FrameworkHint[] }>('framework-hints.json').hints : [],
      kernelDefaults: Object.fromEntries(load<{ defaults: KernelDefaultRow[] }>('kernel-defaults.json').defaults.map((r) => [r.option, r.value])),
      inherited: new Set(load<{ options: { option: string }[] }>('inherited-options.json').options.map((r) => r.option)),
      kinds: load<{ roles: Record<Role, RoleKinds> }>('socket-kinds.json').roles,
      // The report carries these objects as they are: without the row's source.
      unobservable: Object.fromEntries(Object.entries(unobservable).map(([role, rows]) =>
        [role, rows.map(({ source: _source, ...u }) => u)])) as Record<Role, Unobservable[]>,
      tosPriority: prio.map((r, i) => {
        if (r.tosBits !== i) throw new Error(`mappings/tos-priority.json: row ${i} is for tos bits ${r.tosBits}`);
        return r.priority;
      }),
      sysctlRules: load<{ rules: SysctlRule[] }>('sysctl-defaults.json').rules,
      jdkFacts: hasAsset('mappings/jdk-facts.json') ? loadJdkFacts() : [],
      libraries: [...load<{ rows: LibraryRow[] }>('libraries.json').rows].sort((a, b) => b.prefix.length - a.prefix.length),
      jdkNonBlocking: Object.fromEntries(Object.entries(load<{ jdks: Record<string, { nonblocking?: Record<string, boolean> }> }>('jdk-facts.json').jdks)
        .flatMap(([feature, f]) => (f.nonblocking ? [[Number(feature), f.nonblocking]] : []))),
    };
  }
  return cache;
}
