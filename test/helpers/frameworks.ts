// Framework samples (samples/java/frameworks/*.java) run on the jars Debian
// packages in /usr/share/java (the packages are listed in .ci/apt-packages).
// A framework whose jars are missing is reported as undefined so its tests
// can skip with the package to install.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, WORK } from './jvm.js';

export const FRAMEWORK_CLASSES = join(WORK, 'classes-frameworks');
const SRC = join(ROOT, 'samples', 'java', 'frameworks');
const SHARE = process.env.KNETSTAT_JAVA_JARS ?? '/usr/share/java';

export type FrameworkName = 'jetty' | 'netty' | 'httpclient5' | 'tomcat';

interface Framework {
  /** The sample's main class (and file name under samples/java/frameworks). */
  main: string;
  /** Debian package that ships the jars. */
  apt: string[];
  /** Unversioned jar names in /usr/share/java. */
  jars: string[];
}

export const FRAMEWORKS: Record<FrameworkName, Framework> = {
  jetty: {
    main: 'JettyServer',
    apt: ['libjetty9-java'],
    // javax.servlet 4 comes with libservlet-api-java, a dependency of libjetty9-java.
    jars: ['jetty9-server', 'jetty9-http', 'jetty9-io', 'jetty9-util', 'servlet-api'],
  },
  netty: {
    main: 'NettyClientServer',
    apt: ['libnetty-java'],
    // The epoll jars hold only classes (Debian ships no libnetty_transport_native_epoll.so): the sample reports that.
    jars: ['netty-common', 'netty-buffer', 'netty-resolver', 'netty-transport', 'netty-transport-native-unix-common', 'netty-transport-native-epoll'],
  },
  httpclient5: {
    main: 'HttpClient5',
    apt: ['libhttpclient5-java'],
    // slf4j-api is a dependency of httpclient5; slf4j-nop silences its "no binding" warning.
    jars: ['httpclient5', 'httpcore5', 'httpcore5-h2', 'slf4j-api', 'slf4j-nop'],
  },
  tomcat: {
    main: 'TomcatServer',
    apt: ['libtomcat10-java'],
    jars: ['tomcat10-catalina', 'tomcat10-coyote', 'tomcat10-util', 'tomcat10-util-scan', 'tomcat10-juli', 'tomcat10-api',
      'tomcat10-servlet-api', 'tomcat10-annotations-api', 'tomcat10-jaspic-api', 'tomcat10-jni'],
  },
};

/** The jars a framework sample needs, or undefined when any is missing (package not installed). */
export function frameworkClasspath(name: FrameworkName): string[] | undefined {
  const jars = FRAMEWORKS[name].jars.map((j) => join(SHARE, `${j}.jar`));
  return jars.every((j) => existsSync(j)) ? jars : undefined;
}

/** Why a framework cannot run here, for a skip message; undefined when it can. */
export function frameworkMissing(name: FrameworkName): string | undefined {
  const missing = FRAMEWORKS[name].jars.filter((j) => !existsSync(join(SHARE, `${j}.jar`)));
  return missing.length ? `${missing.map((j) => `${j}.jar`).join(', ')} not in ${SHARE}: apt-get install ${FRAMEWORKS[name].apt.join(' ')}` : undefined;
}

/**
 * Compiles the framework's sample into test/.work/classes-frameworks (skipped
 * when up to date) and returns the classpath to run it with (classes dir
 * first, then the jars), for startJvm's `cp` option. undefined when the
 * framework is not installed.
 */
export function compileFramework(name: FrameworkName): string[] | undefined {
  const jars = frameworkClasspath(name);
  if (!jars) return undefined;
  const { main } = FRAMEWORKS[name];
  mkdirSync(FRAMEWORK_CLASSES, { recursive: true });
  const src = join(SRC, `${main}.java`);
  const cls = join(FRAMEWORK_CLASSES, `${main}.class`);
  if (!existsSync(cls) || statSync(cls).mtimeMs < statSync(src).mtimeMs) {
    execFileSync('javac', ['-d', FRAMEWORK_CLASSES, '-cp', jars.join(':'), '-Xlint:-options', '-nowarn', src], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return [FRAMEWORK_CLASSES, ...jars];
}
