// Loads the data tables under mappings/. They are data, not code: each row
// says where its fact comes from, and tests check them against this machine.
// Read as assets (src/assets.ts): files here, embedded in the bundles.
import { hasAsset, PACKAGE_ROOT, readAssetText } from './assets.js';

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
  classes: Record<'socket' | 'server' | 'datagram', { classic: string; nio: string; multicast?: string }>;
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

let cache: { kernel: KernelOption[]; java: JavaApi; jdk: JdkDefaultRow[]; hints: FrameworkHint[] } | undefined;

export function mappings() {
  if (!cache) {
    cache = {
      kernel: load<{ options: KernelOption[] }>('kernel-options.json').options,
      java: load<JavaApi>('java-api.json'),
      jdk: hasAsset('mappings/jdk-defaults.json') ? load<{ rows: JdkDefaultRow[] }>('jdk-defaults.json').rows ?? [] : [],
      hints: hasAsset('mappings/framework-hints.json') ? load<{ hints: FrameworkHint[] }>('framework-hints.json').hints : [],
    };
  }
  return cache;
}
