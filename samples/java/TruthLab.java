import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.*;
import java.nio.ByteBuffer;
import java.nio.channels.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.TimeUnit;
import jdk.net.ExtendedSocketOptions;

/**
 * The truth fixture (issue 13): given a seed, opens a random mix of sockets
 * through every Java socket API, sets random options through every way Java
 * offers (classic setters, setOption with StandardSocketOptions and
 * jdk.net.ExtendedSocketOptions, channel adaptors), moves some traffic, and
 * writes its OWN RECORD of what it did as JSON, so tests can check every
 * claim of knetstat-java against what the code really called.
 *
 *   java [--add-opens ...] TruthLab --seed N --record FILE
 *
 * Prints "READY {"pid":..,"record":FILE,"sockets":n}" when everything is set
 * up, then holds the sockets until stdin closes (or SIGTERM/SIGKILL).
 *
 * Markers: every mutating call (open, setter, bind, connect, accept, close,
 * configureBlocking) is bracketed by two setsockopt calls on an AF_UNIX
 * marker channel the report never lists: SO_RCVBUF = 1000000 + seq before
 * and SO_SNDBUF = 1000000 + seq after, on the calling thread. Under strace
 * that tells exactly which setsockopt(2) each recorded call made, and every
 * setsockopt outside a bracket (or of another option inside one: a lazily
 * created socket's own IPV6_V6ONLY) is the JDK's own.
 *
 * fds: found by reflection, the first java.io.FileDescriptor reachable from
 * the socket object through instance fields (breadth first), read from its
 * private "fd" field. That needs
 *   --add-opens java.base/java.io=ALL-UNNAMED --add-opens java.base/java.net=ALL-UNNAMED
 *   --add-opens java.base/sun.nio.ch=ALL-UNNAMED
 * Without them fd is -1 and fdError says why; the harness then matches
 * sockets by their local and remote ports, and with fds it checks both.
 *
 * Record (one JSON object): seed, pid, java {version, feature, vendor, home},
 * preferIPv4Stack (as the JVM sees it), inputArguments, env (the launcher
 * variables that carry options), sysctl (buffers the value pools use),
 * marker {fd}, and sockets[], each with id, fd, class (the class the code
 * holds: java.net.Socket ... java.nio.channels.AsynchronousSocketChannel),
 * opened (the Java expression), family (the StandardProtocolFamily asked
 * for, or null), role (listening, connected, accepted, unconnected, udp),
 * listener (id, accepted sockets), listenerClosed, reusePortGroup, boundTo
 * (a client bound to another socket's port: that socket's id), closed,
 * local/remote {address, port} as Java reports them, blocking (channels),
 * soTimeout, sent/received (bytes of traffic), calls[] in order (seq, on:
 * the class the method was called on, via: "socket()" for adaptor calls,
 * method, args (Java source text), java (the statement), phase, ok, error),
 * options {name: getOption value} for every supported option, getters
 * {getter: value} of the java.net class, supported [option names].
 */
public class TruthLab {
    static Random rnd;
    static long seed;
    static int seq;
    static SocketChannel marker;
    static boolean v4only, ipv6;
    static final List<Sock> socks = new ArrayList<>();
    static int tcpWmemDef = 16384, tcpRmemDef = 131072, tcpWmemMax = 4194304, wmemMax = 212992, rmemMax = 212992, udpWmemDef = 212992, udpRmemDef = 212992, somaxconn = 4096;
    static int nextId;

    // ---------------------------------------------------------------- record

    static final class Sock {
        final String id;
        Object obj;
        final String cls;
        String opened, family, role, listener, reusePortGroup, boundTo, fdError, localAtClose;
        boolean listenerClosed, closed;
        /** SO_REUSEPORT was set for a shared port: random setters leave it alone (a later false would fail the bind). */
        boolean pinReusePort;
        int fd = -1;
        long sent, received;
        Integer soTimeout;
        final List<String> calls = new ArrayList<>();
        String finalJson;

        Sock(String cls, String role) {
            this.id = "s" + (++nextId);
            this.cls = cls;
            this.role = role;
            socks.add(this);
        }

        String var() { return id; }
    }

    static String q(Object s) {
        if (s == null) return "null";
        String t = s.toString();
        StringBuilder b = new StringBuilder("\"");
        for (char c : t.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static String arr(Collection<String> items) {
        return "[" + String.join(",", items) + "]";
    }

    static String qs(String... items) {
        List<String> l = new ArrayList<>();
        for (String i : items) l.add(q(i));
        return arr(l);
    }

    interface Body {
        Object run() throws Exception;
    }

    static void mark(boolean begin, int n) {
        try {
            marker.setOption(begin ? StandardSocketOptions.SO_RCVBUF : StandardSocketOptions.SO_SNDBUF, 1_000_000 + n);
        } catch (IOException e) {
            throw new IllegalStateException("marker", e);
        }
    }

    /** Runs one recorded call inside a marker bracket. Returns null when it threw (recorded as ok=false). */
    static Object act(Sock s, String on, String via, String method, String phase, Body body, String... args) {
        int n = ++seq;
        mark(true, n);
        Object r = null;
        String err = null;
        try {
            r = body.run();
        } catch (Throwable t) {
            err = t.toString();
        } finally {
            mark(false, n);
        }
        record(s, n, on, via, method, phase, err, true, args);
        return err == null ? (r == null ? Boolean.TRUE : r) : null;
    }

    /** A call with no socket option effect (traffic): recorded, not bracketed. */
    static void note(Sock s, String on, String method, String phase, String... args) {
        record(s, ++seq, on, null, method, phase, null, false, args);
    }

    static void record(Sock s, int n, String on, String via, String method, String phase, String err, boolean marked, String... args) {
        String recv = s.var() + (via != null ? "." + via : "");
        String java = method.equals("<init>") || method.startsWith("open")
                ? s.var() + " = " + (method.equals("<init>") ? "new " + simple(on) + "(" + String.join(", ", args) + ")" : simple(on) + "." + method + "(" + String.join(", ", args) + ")")
                : recv + "." + method + "(" + String.join(", ", args) + ")";
        s.calls.add("{\"seq\":" + n + ",\"on\":" + q(on) + (via != null ? ",\"via\":" + q(via) : "") + ",\"method\":" + q(method)
                + ",\"args\":" + qs(args) + ",\"java\":" + q(java) + ",\"phase\":" + q(phase) + ",\"marked\":" + marked
                + ",\"ok\":" + (err == null) + (err != null ? ",\"error\":" + q(err) : "") + "}");
    }

    static String simple(String cls) {
        return cls.substring(cls.lastIndexOf('.') + 1);
    }

    // ---------------------------------------------------------------- values

    static <T> T pick(List<T> l) {
        return l.get(rnd.nextInt(l.size()));
    }

    @SafeVarargs
    static <T> T pick(T... l) {
        return l[rnd.nextInt(l.length)];
    }

    static boolean chance(double p) {
        return rnd.nextDouble() < p;
    }

    /** Buffer sizes: the halves of the kernel defaults (the kernel doubles), the defaults, odd sizes, the caps and beyond. */
    static int bufSize(boolean udp) {
        return pick(
                tcpWmemDef / 2, tcpRmemDef / 2, tcpWmemDef, tcpRmemDef, udp ? udpWmemDef / 2 : 8192, udp ? udpRmemDef : 65536,
                100001, 4096, 1024, 262144, tcpWmemMax / 2, wmemMax, 10_000_000);
    }

    static int trafficClass() {
        return pick(0, 0x10, 0x08, 0x28, 0xb8, 0x04, 0x02);
    }

    static Object valueFor(String name, boolean udp) {
        switch (name) {
            case "SO_RCVBUF": case "SO_SNDBUF": return bufSize(udp);
            case "SO_LINGER": return pick(-1, 0, 3, 17);
            case "IP_TOS": return trafficClass();
            case "IP_MULTICAST_TTL": return pick(1, 0, 5, 64, 255);
            case "TCP_KEEPIDLE": return pick(7200, 1, 45, 600);
            case "TCP_KEEPINTERVAL": return pick(75, 1, 10);
            case "TCP_KEEPCOUNT": return pick(9, 1, 3);
            default: return chance(0.5);
        }
    }

    /** Options the fixture sets with setOption, in a fixed order (supportedOptions() is a HashSet). */
    static final String[] OPTION_ORDER = {
        "SO_RCVBUF", "SO_SNDBUF", "SO_REUSEADDR", "SO_REUSEPORT", "SO_KEEPALIVE", "SO_LINGER", "TCP_NODELAY", "IP_TOS",
        "SO_BROADCAST", "IP_MULTICAST_TTL", "IP_MULTICAST_LOOP", "TCP_KEEPIDLE", "TCP_KEEPINTERVAL", "TCP_KEEPCOUNT", "TCP_QUICKACK",
        "IP_DONTFRAGMENT",
    };

    static SocketOption<?> optionNamed(String name) {
        for (Class<?> c : new Class<?>[] {StandardSocketOptions.class, ExtendedSocketOptions.class}) {
            try {
                Object o = c.getField(name).get(null);
                if (o instanceof SocketOption) return (SocketOption<?>) o;
            } catch (ReflectiveOperationException e) {
                // not in this JDK (IP_DONTFRAGMENT is JDK 19+)
            }
        }
        return null;
    }

    static String optionSource(String name) {
        try {
            StandardSocketOptions.class.getField(name);
            return "StandardSocketOptions." + name;
        } catch (NoSuchFieldException e) {
            return "ExtendedSocketOptions." + name;
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static Set<SocketOption<?>> supported(Object o) {
        if (o instanceof NetworkChannel) return ((NetworkChannel) o).supportedOptions();
        if (o instanceof Socket) return ((Socket) o).supportedOptions();
        if (o instanceof ServerSocket) return ((ServerSocket) o).supportedOptions();
        if (o instanceof DatagramSocket) return ((DatagramSocket) o).supportedOptions();
        return Collections.emptySet();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static void setOpt(Object o, SocketOption so, Object v) throws IOException {
        if (o instanceof NetworkChannel) ((NetworkChannel) o).setOption(so, v);
        else if (o instanceof Socket) ((Socket) o).setOption(so, v);
        else if (o instanceof ServerSocket) ((ServerSocket) o).setOption(so, v);
        else if (o instanceof DatagramSocket) ((DatagramSocket) o).setOption(so, v);
        else throw new IllegalArgumentException(o.getClass().getName());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static Object getOpt(Object o, SocketOption so) throws IOException {
        if (o instanceof NetworkChannel) return ((NetworkChannel) o).getOption(so);
        if (o instanceof Socket) return ((Socket) o).getOption(so);
        if (o instanceof ServerSocket) return ((ServerSocket) o).getOption(so);
        if (o instanceof DatagramSocket) return ((DatagramSocket) o).getOption(so);
        return null;
    }

    // ---------------------------------------------------------------- setters

    /** The java.net object a classic setter is called on: the socket itself or a channel's adaptor. */
    static Object classicTarget(Sock s, boolean viaAdaptor) {
        Object o = s.obj;
        if (!viaAdaptor) return o;
        if (o instanceof SocketChannel) return ((SocketChannel) o).socket();
        if (o instanceof ServerSocketChannel) return ((ServerSocketChannel) o).socket();
        if (o instanceof DatagramChannel) return ((DatagramChannel) o).socket();
        return null;
    }

    static String classicClass(Object t) {
        if (t instanceof Socket) return "java.net.Socket";
        if (t instanceof ServerSocket) return "java.net.ServerSocket";
        if (t instanceof MulticastSocket) return "java.net.MulticastSocket";
        if (t instanceof DatagramSocket) return "java.net.DatagramSocket";
        return null;
    }

    /** One random setter call on s; false when none applies. */
    static void randomSetter(Sock s, String phase) {
        Object o = s.obj;
        boolean channel = o instanceof NetworkChannel;
        boolean async = o instanceof AsynchronousSocketChannel || o instanceof AsynchronousServerSocketChannel;
        boolean udp = o instanceof DatagramSocket || o instanceof DatagramChannel;
        // Classic setters: on java.net objects, and sometimes through a channel's socket() adaptor.
        boolean classic = !async && (!channel || chance(0.25)) && chance(channel ? 1 : 0.55);
        if (classic) {
            boolean viaAdaptor = channel;
            Object t = classicTarget(s, viaAdaptor);
            String on = classicClass(t);
            String via = viaAdaptor ? "socket()" : null;
            if (t instanceof Socket) {
                Socket x = (Socket) t;
                switch (rnd.nextInt(10)) {
                    case 0: { boolean b = chance(0.5); act(s, on, via, "setTcpNoDelay", phase, () -> { x.setTcpNoDelay(b); return null; }, "" + b); return; }
                    case 1: { boolean b = chance(0.5); act(s, on, via, "setKeepAlive", phase, () -> { x.setKeepAlive(b); return null; }, "" + b); return; }
                    case 2: { boolean b = chance(0.6); int n = b ? pick(0, 1, 5, 30) : 0; act(s, on, via, "setSoLinger", phase, () -> { x.setSoLinger(b, n); return null; }, "" + b, "" + n); return; }
                    case 3: { boolean b = chance(0.5); act(s, on, via, "setReuseAddress", phase, () -> { x.setReuseAddress(b); return null; }, "" + b); return; }
                    case 4: { int n = bufSize(false); act(s, on, via, "setReceiveBufferSize", phase, () -> { x.setReceiveBufferSize(n); return null; }, "" + n); return; }
                    case 5: { int n = bufSize(false); act(s, on, via, "setSendBufferSize", phase, () -> { x.setSendBufferSize(n); return null; }, "" + n); return; }
                    case 6: { int n = trafficClass(); act(s, on, via, "setTrafficClass", phase, () -> { x.setTrafficClass(n); return null; }, String.format("0x%02x", n)); return; }
                    case 7: { boolean b = chance(0.5); act(s, on, via, "setOOBInline", phase, () -> { x.setOOBInline(b); return null; }, "" + b); return; }
                    case 8: { int n = pick(0, 3000, 7000); s.soTimeout = n; act(s, on, via, "setSoTimeout", phase, () -> { x.setSoTimeout(n); return null; }, "" + n); return; }
                    default: act(s, on, via, "setPerformancePreferences", phase, () -> { x.setPerformancePreferences(1, 2, 0); return null; }, "1", "2", "0"); return;
                }
            }
            if (t instanceof ServerSocket) {
                ServerSocket x = (ServerSocket) t;
                switch (rnd.nextInt(4)) {
                    case 0: { boolean b = chance(0.5); act(s, on, via, "setReuseAddress", phase, () -> { x.setReuseAddress(b); return null; }, "" + b); return; }
                    case 1: { int n = bufSize(false); act(s, on, via, "setReceiveBufferSize", phase, () -> { x.setReceiveBufferSize(n); return null; }, "" + n); return; }
                    case 2: { int n = pick(0, 3000); s.soTimeout = n; act(s, on, via, "setSoTimeout", phase, () -> { x.setSoTimeout(n); return null; }, "" + n); return; }
                    default: act(s, on, via, "setPerformancePreferences", phase, () -> { x.setPerformancePreferences(0, 1, 2); return null; }, "0", "1", "2"); return;
                }
            }
            if (t instanceof DatagramSocket) {
                DatagramSocket x = (DatagramSocket) t;
                boolean multicast = t instanceof MulticastSocket;
                switch (rnd.nextInt(multicast ? 8 : 6)) {
                    case 0: { boolean b = chance(0.5); act(s, on, via, "setBroadcast", phase, () -> { x.setBroadcast(b); return null; }, "" + b); return; }
                    case 1: { boolean b = chance(0.5); act(s, on, via, "setReuseAddress", phase, () -> { x.setReuseAddress(b); return null; }, "" + b); return; }
                    case 2: { int n = bufSize(true); act(s, on, via, "setReceiveBufferSize", phase, () -> { x.setReceiveBufferSize(n); return null; }, "" + n); return; }
                    case 3: { int n = bufSize(true); act(s, on, via, "setSendBufferSize", phase, () -> { x.setSendBufferSize(n); return null; }, "" + n); return; }
                    case 4: { int n = trafficClass(); act(s, on, via, "setTrafficClass", phase, () -> { x.setTrafficClass(n); return null; }, String.format("0x%02x", n)); return; }
                    case 5: { int n = pick(0, 2000); s.soTimeout = n; act(s, on, via, "setSoTimeout", phase, () -> { x.setSoTimeout(n); return null; }, "" + n); return; }
                    case 6: { int n = pick(1, 0, 7, 200); MulticastSocket m = (MulticastSocket) x; act(s, on, via, "setTimeToLive", phase, () -> { m.setTimeToLive(n); return null; }, "" + n); return; }
                    default: { boolean b = chance(0.5); MulticastSocket m = (MulticastSocket) x; act(s, on, via, "setLoopbackMode", phase, () -> { setLoopbackMode(m, b); return null; }, "" + b); return; }
                }
            }
        }
        // setOption with a standard or extended option this object supports.
        Set<SocketOption<?>> sup = supported(o);
        List<String> names = new ArrayList<>();
        for (String n : OPTION_ORDER) {
            SocketOption<?> so = optionNamed(n);
            if (so != null && sup.contains(so) && !(s.pinReusePort && n.equals("SO_REUSEPORT"))) names.add(n);
        }
        if (names.isEmpty()) return;
        String name = pick(names);
        SocketOption<?> so = optionNamed(name);
        Object v = valueFor(name, udp);
        String cls = s.cls;
        act(s, cls, null, "setOption", phase, () -> { setOpt(o, so, v); return null; }, optionSource(name), v.toString());
    }

    @SuppressWarnings("deprecation")
    static void setLoopbackMode(MulticastSocket m, boolean b) throws IOException {
        m.setLoopbackMode(b);
    }

    static void setters(Sock s, String phase, int max) {
        int n = rnd.nextInt(max + 1);
        for (int i = 0; i < n; i++) randomSetter(s, phase);
    }

    // ---------------------------------------------------------------- addresses

    static InetAddress addr(String a) {
        try {
            return InetAddress.getByName(a);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A bind address for a socket of that family ("INET", "INET6", or null: the JDK's default). */
    static String bindAddr(String family) {
        List<String> l = new ArrayList<>();
        if (!"INET6".equals(family)) { l.add("127.0.0.1"); l.add("127.0.0.1"); l.add("0.0.0.0"); }
        if (ipv6 && !"INET".equals(family)) { l.add("::1"); l.add("::"); }
        return pick(l);
    }

    static String connectAddrFor(String bound) {
        if (bound.equals("0.0.0.0")) return "127.0.0.1";
        if (bound.equals("::")) return pick("::1", "127.0.0.1");
        return bound;
    }

    static boolean v6(String a) {
        return a.contains(":");
    }

    static String familyOpen(String f) {
        return f == null ? "" : "StandardProtocolFamily." + f;
    }

    static ProtocolFamily pf(String f) {
        return "INET".equals(f) ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
    }

    /** A family to ask for: null (the JDK's choice), INET, or INET6 when IPv6 works. */
    static String randomFamily() {
        double r = rnd.nextDouble();
        if (r < 0.6) return null;
        if (r < 0.85 || !ipv6) return "INET";
        return "INET6";
    }

    static InetSocketAddress isa(String a, int port) {
        return new InetSocketAddress(addr(a), port);
    }

    // ---------------------------------------------------------------- listeners

    static final class Listener {
        Sock s;
        String bound;
        int port;
        List<Sock> accepted = new ArrayList<>();
    }

    static Listener listener(String kind, String family, Integer fixedPort, boolean reusePort, String group) throws Exception {
        Listener l = new Listener();
        String cls = kind.equals("ServerSocket") ? "java.net.ServerSocket" : kind.equals("ServerSocketChannel") ? "java.nio.channels.ServerSocketChannel" : "java.nio.channels.AsynchronousServerSocketChannel";
        Sock s = new Sock(cls, "listening");
        l.s = s;
        s.family = family;
        s.reusePortGroup = group;
        s.pinReusePort = reusePort;
        String bound = fixedPort != null ? (ipv6 && !"INET".equals(family) && chance(0.3) ? "::" : "127.0.0.1") : bindAddr(family);
        if (fixedPort != null && "INET6".equals(family)) bound = "::";
        l.bound = bound;
        int port = fixedPort == null ? 0 : fixedPort;
        Integer backlog = chance(0.5) ? null : pick(0, -1, 1, 50, 100, somaxconn, 10000);
        InetSocketAddress at = isa(bound, port);
        String bl = backlog == null ? null : "" + backlog;
        String atSrc = "new InetSocketAddress(\"" + bound + "\", " + port + ")";
        switch (kind) {
            case "ServerSocket": {
                if (!reusePort && chance(0.3) && backlog != null) {
                    s.opened = "new ServerSocket(" + port + ", " + backlog + ", InetAddress.getByName(\"" + bound + "\"))";
                    int b = backlog;
                    s.obj = act(s, cls, null, "<init>", "open", () -> new ServerSocket(port, b, addr(l.bound)), "" + port, bl, "InetAddress.getByName(\"" + bound + "\")");
                    if (s.obj == null) return null;
                } else {
                    s.opened = "new ServerSocket()";
                    s.obj = act(s, cls, null, "<init>", "open", ServerSocket::new);
                    if (reusePort) act(s, cls, null, "setOption", "before-bind", () -> { ((ServerSocket) s.obj).setOption(StandardSocketOptions.SO_REUSEPORT, true); return null; }, "StandardSocketOptions.SO_REUSEPORT", "true");
                    setters(s, "before-bind", 3);
                    ServerSocket ss = (ServerSocket) s.obj;
                    if (backlog == null) act(s, cls, null, "bind", "bind", () -> { ss.bind(at); return null; }, atSrc);
                    else { int b = backlog; act(s, cls, null, "bind", "bind", () -> { ss.bind(at, b); return null; }, atSrc, bl); }
                }
                break;
            }
            case "ServerSocketChannel": {
                s.opened = "ServerSocketChannel.open(" + familyOpen(family) + ")";
                s.obj = family == null ? act(s, cls, null, "open", "open", ServerSocketChannel::open) : act(s, cls, null, "open", "open", () -> ServerSocketChannel.open(pf(family)), familyOpen(family));
                if (s.obj == null) return null;
                ServerSocketChannel ch = (ServerSocketChannel) s.obj;
                if (reusePort) act(s, cls, null, "setOption", "before-bind", () -> { ch.setOption(StandardSocketOptions.SO_REUSEPORT, true); return null; }, "StandardSocketOptions.SO_REUSEPORT", "true");
                setters(s, "before-bind", 3);
                if (backlog == null) act(s, cls, null, "bind", "bind", () -> { ch.bind(at); return null; }, atSrc);
                else { int b = backlog; act(s, cls, null, "bind", "bind", () -> { ch.bind(at, b); return null; }, atSrc, bl); }
                if (chance(0.4) || reusePort) act(s, cls, null, "configureBlocking", "after-bind", () -> { ch.configureBlocking(false); return null; }, "false");
                break;
            }
            default: {
                s.opened = "AsynchronousServerSocketChannel.open()";
                s.obj = act(s, cls, null, "open", "open", AsynchronousServerSocketChannel::open);
                if (s.obj == null) return null;
                AsynchronousServerSocketChannel ch = (AsynchronousServerSocketChannel) s.obj;
                if (reusePort) act(s, cls, null, "setOption", "before-bind", () -> { ch.setOption(StandardSocketOptions.SO_REUSEPORT, true); return null; }, "StandardSocketOptions.SO_REUSEPORT", "true");
                setters(s, "before-bind", 3);
                if (backlog == null) act(s, cls, null, "bind", "bind", () -> { ch.bind(at); return null; }, atSrc);
                else { int b = backlog; act(s, cls, null, "bind", "bind", () -> { ch.bind(at, b); return null; }, atSrc, bl); }
            }
        }
        l.port = localPort(s.obj);
        if (l.port <= 0) {
            s.role = "unconnected"; // the bind failed (recorded): it never listened
            return null;
        }
        setters(s, "after-bind", 2);
        return l;
    }

    static int localPort(Object o) {
        try {
            if (o instanceof ServerSocket) return ((ServerSocket) o).getLocalPort();
            if (o instanceof Socket) return ((Socket) o).getLocalPort();
            if (o instanceof DatagramSocket) return ((DatagramSocket) o).getLocalPort();
            if (o instanceof NetworkChannel) {
                SocketAddress a = ((NetworkChannel) o).getLocalAddress();
                return a == null ? 0 : ((InetSocketAddress) a).getPort();
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** Accepts one pending connection on l; null when none came within the wait. */
    static Sock acceptOne(Listener l, long waitMs) throws Exception {
        Sock ls = l.s;
        long end = System.currentTimeMillis() + waitMs;
        Object o = ls.obj;
        if (o instanceof ServerSocket) {
            ServerSocket ss = (ServerSocket) o;
            Sock a = new Sock("java.net.Socket", "accepted");
            a.opened = ls.id + ".accept()";
            Object r = act(ls, ls.cls, null, "accept", "accept", ss::accept);
            if (r == null) { socks.remove(a); return null; }
            a.obj = r;
            a.listener = ls.id;
            l.accepted.add(a);
            return a;
        }
        if (o instanceof ServerSocketChannel) {
            ServerSocketChannel ch = (ServerSocketChannel) o;
            Object r = null;
            if (ch.isBlocking()) r = act(ls, ls.cls, null, "accept", "accept", ch::accept);
            else {
                // Non-blocking: poll, then record the accept that returned a channel (accept sets no option).
                while (r == null && System.currentTimeMillis() < end) {
                    r = ch.accept();
                    if (r == null) Thread.sleep(2);
                }
                if (r != null) record(ls, ++seq, ls.cls, null, "accept", "accept", null, false);
            }
            if (!(r instanceof SocketChannel)) return null;
            Sock a = new Sock("java.nio.channels.SocketChannel", "accepted");
            a.opened = ls.id + ".accept()";
            a.obj = r;
            a.listener = ls.id;
            l.accepted.add(a);
            return a;
        }
        AsynchronousServerSocketChannel ch = (AsynchronousServerSocketChannel) o;
        Object r = act(ls, ls.cls, null, "accept", "accept", () -> ch.accept().get(waitMs, TimeUnit.MILLISECONDS));
        if (r == null) return null;
        Sock a = new Sock("java.nio.channels.AsynchronousSocketChannel", "accepted");
        a.opened = ls.id + ".accept()";
        a.obj = r;
        a.listener = ls.id;
        l.accepted.add(a);
        return a;
    }

    // ---------------------------------------------------------------- clients

    static final String[] CLIENT_KINDS = {"Socket", "Socket", "SocketChannel", "SocketChannel", "AsynchronousSocketChannel"};

    /** A connected client of target:port; bindPort binds it first (SO_REUSEPORT to another socket's port). */
    static Sock client(String target, int port, Integer bindPort, String bindAddr) throws Exception {
        String kind = pick(CLIENT_KINDS);
        String family = null;
        if (kind.equals("SocketChannel") && chance(0.4)) family = v6(target) ? "INET6" : (ipv6 && chance(0.3) ? "INET6" : "INET");
        InetSocketAddress to = isa(target, port);
        String toSrc = "new InetSocketAddress(\"" + target + "\", " + port + ")";
        InetSocketAddress from = bindPort == null ? null : isa(bindAddr, bindPort);
        String fromSrc = bindPort == null ? null : "new InetSocketAddress(\"" + bindAddr + "\", " + bindPort + ")";
        Sock s;
        switch (kind) {
            case "Socket": {
                s = new Sock("java.net.Socket", "connected");
                s.pinReusePort = bindPort != null;
                String cls = s.cls;
                if (bindPort == null && chance(0.3)) {
                    s.opened = "new Socket(InetAddress, port)";
                    s.obj = act(s, cls, null, "<init>", "open", () -> new Socket(addr(target), port), "InetAddress.getByName(\"" + target + "\")", "" + port);
                    if (s.obj == null) return null;
                } else {
                    s.opened = "new Socket()";
                    s.obj = act(s, cls, null, "<init>", "open", Socket::new);
                    Socket x = (Socket) s.obj;
                    if (bindPort != null) {
                        act(s, cls, null, "setOption", "before-bind", () -> { x.setOption(StandardSocketOptions.SO_REUSEPORT, true); return null; }, "StandardSocketOptions.SO_REUSEPORT", "true");
                        setters(s, "before-bind", 2);
                        act(s, cls, null, "bind", "bind", () -> { x.bind(from); return null; }, fromSrc);
                    }
                    setters(s, "before-connect", 3);
                    if (act(s, cls, null, "connect", "connect", () -> { x.connect(to, 5000); return null; }, toSrc, "5000") == null) { s.role = "unconnected"; return s; } // the connect failed (recorded)
                }
                break;
            }
            case "SocketChannel": {
                s = new Sock("java.nio.channels.SocketChannel", "connected");
                s.pinReusePort = bindPort != null;
                s.family = family;
                String cls = s.cls;
                String fam = family;
                if (family == null && bindPort == null && chance(0.3)) {
                    s.opened = "SocketChannel.open(SocketAddress)";
                    s.obj = act(s, cls, null, "open", "open", () -> SocketChannel.open(to), toSrc);
                    if (s.obj == null) return null;
                } else {
                    s.opened = "SocketChannel.open(" + familyOpen(family) + ")";
                    s.obj = fam == null ? act(s, cls, null, "open", "open", SocketChannel::open) : act(s, cls, null, "open", "open", () -> SocketChannel.open(pf(fam)), familyOpen(fam));
                    if (s.obj == null) return null;
                    SocketChannel x = (SocketChannel) s.obj;
                    if (bindPort != null) {
                        act(s, cls, null, "setOption", "before-bind", () -> { x.setOption(StandardSocketOptions.SO_REUSEPORT, true); return null; }, "StandardSocketOptions.SO_REUSEPORT", "true");
                        setters(s, "before-bind", 2);
                        act(s, cls, null, "bind", "bind", () -> { x.bind(from); return null; }, fromSrc);
                    }
                    setters(s, "before-connect", 3);
                    if (chance(0.4)) {
                        act(s, cls, null, "configureBlocking", "before-connect", () -> { x.configureBlocking(false); return null; }, "false");
                        act(s, cls, null, "connect", "connect", () -> x.connect(to), toSrc);
                        long end = System.currentTimeMillis() + 5000;
                        try {
                            while (!x.finishConnect() && System.currentTimeMillis() < end) Thread.sleep(2);
                            note(s, cls, "finishConnect", "connect");
                        } catch (IOException e) {
                            record(s, ++seq, cls, null, "finishConnect", "connect", e.toString(), false);
                        }
                    } else if (act(s, cls, null, "connect", "connect", () -> x.connect(to), toSrc) == null) { s.role = "unconnected"; return s; } // the connect failed (recorded)
                }
                break;
            }
            default: {
                s = new Sock("java.nio.channels.AsynchronousSocketChannel", "connected");
                s.pinReusePort = bindPort != null;
                String cls = s.cls;
                s.opened = "AsynchronousSocketChannel.open()";
                s.obj = act(s, cls, null, "open", "open", AsynchronousSocketChannel::open);
                if (s.obj == null) return null;
                AsynchronousSocketChannel x = (AsynchronousSocketChannel) s.obj;
                if (bindPort != null) {
                    act(s, cls, null, "setOption", "before-bind", () -> { x.setOption(StandardSocketOptions.SO_REUSEPORT, true); return null; }, "StandardSocketOptions.SO_REUSEPORT", "true");
                    setters(s, "before-bind", 2);
                    act(s, cls, null, "bind", "bind", () -> { x.bind(from); return null; }, fromSrc);
                }
                setters(s, "before-connect", 3);
                if (act(s, cls, null, "connect", "connect", () -> x.connect(to).get(5, TimeUnit.SECONDS), toSrc) == null) { s.role = "unconnected"; return s; } // the connect failed (recorded)
            }
        }
        if (!connected(s)) { s.role = "unconnected"; return s; }
        setters(s, "after-connect", 2);
        return s;
    }

    /** The client's connect succeeded (a blocking accept waits for it only then). */
    static boolean connected(Sock c) {
        if (c == null || c.obj == null) return false;
        try {
            if (c.obj instanceof Socket) return ((Socket) c.obj).isConnected();
            if (c.obj instanceof SocketChannel) return ((SocketChannel) c.obj).isConnected();
            if (c.obj instanceof AsynchronousSocketChannel) return ((AsynchronousSocketChannel) c.obj).getRemoteAddress() != null;
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** Which clients may connect to target: no INET-only socket to an IPv6 address. */
    static String targetFor(Listener l) {
        return connectAddrFor(l.bound);
    }

    // ---------------------------------------------------------------- traffic

    static void write(Sock s, int n) {
        try {
            Object o = s.obj;
            byte[] chunk = new byte[65536];
            int left = n;
            if (o instanceof Socket) {
                OutputStream out = ((Socket) o).getOutputStream();
                while (left > 0) { int k = Math.min(left, chunk.length); out.write(chunk, 0, k); left -= k; }
                out.flush();
            } else if (o instanceof SocketChannel) {
                SocketChannel ch = (SocketChannel) o;
                while (left > 0) {
                    ByteBuffer b = ByteBuffer.wrap(chunk, 0, Math.min(left, chunk.length));
                    while (b.hasRemaining()) { int k = ch.write(b); if (k == 0) Thread.sleep(1); left -= k; }
                }
            } else if (o instanceof AsynchronousSocketChannel) {
                AsynchronousSocketChannel ch = (AsynchronousSocketChannel) o;
                while (left > 0) {
                    ByteBuffer b = ByteBuffer.wrap(chunk, 0, Math.min(left, chunk.length));
                    while (b.hasRemaining()) left -= ch.write(b).get(10, TimeUnit.SECONDS);
                }
            }
            s.sent += n;
        } catch (Exception e) {
            throw new IllegalStateException("write on " + s.id, e);
        }
    }

    static void read(Sock s, int n) {
        try {
            Object o = s.obj;
            byte[] chunk = new byte[65536];
            int left = n;
            if (o instanceof Socket) {
                InputStream in = ((Socket) o).getInputStream();
                while (left > 0) { int k = in.read(chunk, 0, Math.min(left, chunk.length)); if (k < 0) break; left -= k; }
            } else if (o instanceof SocketChannel) {
                SocketChannel ch = (SocketChannel) o;
                while (left > 0) {
                    int k = ch.read(ByteBuffer.wrap(chunk, 0, Math.min(left, chunk.length)));
                    if (k < 0) break;
                    if (k == 0) Thread.sleep(1);
                    left -= k;
                }
            } else if (o instanceof AsynchronousSocketChannel) {
                AsynchronousSocketChannel ch = (AsynchronousSocketChannel) o;
                while (left > 0) {
                    int k = ch.read(ByteBuffer.wrap(chunk, 0, Math.min(left, chunk.length))).get(10, TimeUnit.SECONDS);
                    if (k < 0) break;
                    left -= k;
                }
            }
            s.received += n - left;
        } catch (Exception e) {
            throw new IllegalStateException("read on " + s.id, e);
        }
    }

    static void traffic(Sock a, Sock b) throws InterruptedException {
        if (a == null || b == null || a.obj == null || b.obj == null) return;
        int n = pick(1000, 300_000, 3_000_000);
        boolean ab = chance(0.5);
        Sock from = ab ? a : b, to = ab ? b : a;
        String[] failed = new String[1];
        Thread w = new Thread(() -> {
            try { write(from, n); } catch (RuntimeException e) { failed[0] = e.toString(); }
        }, "truthlab-writer");
        w.start();
        try {
            read(to, n);
        } catch (RuntimeException e) {
            failed[0] = e.toString();
        }
        w.join();
        record(from, ++seq, from.cls, null, "write", "traffic", failed[0], false, "" + n);
        record(to, ++seq, to.cls, null, "read", "traffic", failed[0], false, "" + n);
    }

    // ---------------------------------------------------------------- scenarios

    static final String[] LISTENER_KINDS = {"ServerSocket", "ServerSocket", "ServerSocketChannel", "ServerSocketChannel", "AsynchronousServerSocketChannel"};

    static final List<Listener> listeners = new ArrayList<>();

    static void server() throws Exception {
        String kind = pick(LISTENER_KINDS);
        String family = kind.equals("ServerSocketChannel") ? randomFamily() : null;
        Listener l = listener(kind, family, null, false, null);
        if (l == null) return;
        listeners.add(l);
        int clients = 1 + rnd.nextInt(3);
        for (int i = 0; i < clients; i++) {
            String target = targetFor(l);
            Sock c = client(target, l.port, null, null);
            if (!connected(c)) continue;
            Sock a = acceptOne(l, 3000);
            if (a == null) continue;
            setters(a, "after-accept", 2);
            if (chance(0.5)) traffic(c, a);
        }
        if (chance(0.35)) close(l);
    }

    static void close(Listener l) {
        Sock s = l.s;
        s.fd = fdOf(s); // the fd it had, for strace (the number may be reused after close)
        String[] e = endpoints(s.obj);
        s.localAtClose = e[0];
        act(s, s.cls, null, "close", "close", () -> { ((AutoCloseable) s.obj).close(); return null; });
        s.closed = true;
        for (Sock a : l.accepted) a.listenerClosed = true;
    }

    /** Two listeners on one port (SO_REUSEPORT), different options; the kernel spreads connections over them. */
    static void reusePortPair() throws Exception {
        String group = "g" + (nextId + 1);
        Listener l1 = listener(pick(LISTENER_KINDS), null, null, true, group);
        if (l1 == null) return;
        Listener l2 = listener(pick(LISTENER_KINDS), null, l1.port, true, group);
        listeners.add(l1);
        if (l2 == null) return;
        listeners.add(l2);
        int n = 4 + rnd.nextInt(3);
        for (int i = 0; i < n; i++) {
            Sock c = client("127.0.0.1", l1.port, null, null);
            if (!connected(c)) continue;
            Sock a = null;
            long end = System.currentTimeMillis() + 3000;
            while (a == null && System.currentTimeMillis() < end) {
                for (Listener l : new Listener[] {l1, l2}) {
                    a = acceptPoll(l);
                    if (a != null) break;
                }
            }
            if (a != null) {
                setters(a, "after-accept", 1);
                if (chance(0.3)) traffic(c, a);
            }
        }
        if (chance(0.35)) close(pick(l1, l2));
    }

    /** Pending async accepts, by listener: an AsynchronousServerSocketChannel allows one at a time. */
    static final Map<Listener, java.util.concurrent.Future<AsynchronousSocketChannel>> pending = new HashMap<>();

    static Sock acceptPoll(Listener l) throws Exception {
        Sock ls = l.s;
        if (ls.obj instanceof AsynchronousServerSocketChannel) {
            AsynchronousServerSocketChannel ch = (AsynchronousServerSocketChannel) ls.obj;
            java.util.concurrent.Future<AsynchronousSocketChannel> f = pending.get(l);
            if (f == null) {
                Object r = act(ls, ls.cls, null, "accept", "accept", ch::accept);
                if (r == null) return null;
                @SuppressWarnings("unchecked")
                java.util.concurrent.Future<AsynchronousSocketChannel> nf = (java.util.concurrent.Future<AsynchronousSocketChannel>) r;
                pending.put(l, f = nf);
            }
            try {
                AsynchronousSocketChannel a = f.get(20, TimeUnit.MILLISECONDS);
                pending.remove(l);
                Sock s = new Sock("java.nio.channels.AsynchronousSocketChannel", "accepted");
                s.opened = ls.id + ".accept()";
                s.obj = a;
                s.listener = ls.id;
                l.accepted.add(s);
                return s;
            } catch (java.util.concurrent.TimeoutException e) {
                return null;
            }
        }
        if (ls.obj instanceof ServerSocket) {
            ServerSocket ss = (ServerSocket) ls.obj;
            if (ls.soTimeout == null || ls.soTimeout == 0) {
                ls.soTimeout = 20;
                act(ls, ls.cls, null, "setSoTimeout", "accept", () -> { ss.setSoTimeout(20); return null; }, "20");
            }
            Socket r;
            try {
                r = ss.accept();
            } catch (SocketTimeoutException e) {
                return null;
            }
            record(ls, ++seq, ls.cls, null, "accept", "accept", null, false);
            Sock s = new Sock("java.net.Socket", "accepted");
            s.opened = ls.id + ".accept()";
            s.obj = r;
            s.listener = ls.id;
            l.accepted.add(s);
            return s;
        }
        ServerSocketChannel ch = (ServerSocketChannel) ls.obj;
        SocketChannel r = ch.accept();
        if (r == null) { Thread.sleep(5); return null; }
        record(ls, ++seq, ls.cls, null, "accept", "accept", null, false);
        Sock s = new Sock("java.nio.channels.SocketChannel", "accepted");
        s.opened = ls.id + ".accept()";
        s.obj = r;
        s.listener = ls.id;
        l.accepted.add(s);
        return s;
    }

    /** A client bound (SO_REUSEPORT) to the port of a listener that has SO_REUSEPORT, connected elsewhere. */
    static void reusePortClient() throws Exception {
        Listener owner = listener(pick(LISTENER_KINDS), null, null, true, null);
        if (owner == null) return;
        listeners.add(owner);
        // Another listener that takes IPv4 (the client binds 127.0.0.1): bound to 127.0.0.1 or 0.0.0.0.
        Listener other = null;
        for (Listener l : listeners) if (l != owner && !l.s.closed && !v6(l.bound) && l.s.reusePortGroup == null) other = l;
        if (other == null) {
            other = listener("ServerSocket", null, null, false, null);
            if (other == null) return;
            listeners.add(other);
        }
        String bindAt = owner.bound.equals("::") || owner.bound.equals("0.0.0.0") ? "127.0.0.1" : owner.bound;
        if (v6(bindAt)) bindAt = "127.0.0.1";
        Sock c = client("127.0.0.1", other.port, owner.port, bindAt);
        if (c != null) c.boundTo = owner.s.id;
        if (!connected(c)) return;
        Sock a = acceptOne(other, 3000);
        if (a != null && chance(0.5)) traffic(c, a);
    }

    /** Sockets never connected (TCP CLOSE): options set, sometimes bound, never listening or connected. */
    static void unconnected() throws Exception {
        switch (rnd.nextInt(5)) {
            case 0: {
                Sock s = new Sock("java.net.Socket", "unconnected");
                s.opened = "new Socket()";
                s.obj = act(s, s.cls, null, "<init>", "open", Socket::new);
                randomSetter(s, "unconnected");
                setters(s, "unconnected", 2);
                if (chance(0.5)) { String a = bindAddr(null); act(s, s.cls, null, "bind", "bind", () -> { ((Socket) s.obj).bind(isa(a, 0)); return null; }, "new InetSocketAddress(\"" + a + "\", 0)"); }
                return;
            }
            case 1: {
                Sock s = new Sock("java.net.ServerSocket", "unconnected");
                s.opened = "new ServerSocket()";
                s.obj = act(s, s.cls, null, "<init>", "open", ServerSocket::new);
                randomSetter(s, "unconnected");
                setters(s, "unconnected", 1);
                return;
            }
            case 2: {
                String f = randomFamily();
                Sock s = new Sock("java.nio.channels.SocketChannel", "unconnected");
                s.family = f;
                s.opened = "SocketChannel.open(" + familyOpen(f) + ")";
                s.obj = f == null ? act(s, s.cls, null, "open", "open", SocketChannel::open) : act(s, s.cls, null, "open", "open", () -> SocketChannel.open(pf(f)), familyOpen(f));
                setters(s, "unconnected", 3);
                if (chance(0.5)) { String a = bindAddr(f); act(s, s.cls, null, "bind", "bind", () -> { ((SocketChannel) s.obj).bind(isa(a, 0)); return null; }, "new InetSocketAddress(\"" + a + "\", 0)"); }
                if (chance(0.3)) act(s, s.cls, null, "configureBlocking", "unconnected", () -> { ((SocketChannel) s.obj).configureBlocking(false); return null; }, "false");
                return;
            }
            case 3: {
                Sock s = new Sock("java.nio.channels.ServerSocketChannel", "unconnected");
                s.opened = "ServerSocketChannel.open()";
                s.obj = act(s, s.cls, null, "open", "open", ServerSocketChannel::open);
                setters(s, "unconnected", 2);
                return;
            }
            default: {
                Sock s = new Sock("java.nio.channels.AsynchronousSocketChannel", "unconnected");
                s.opened = "AsynchronousSocketChannel.open()";
                s.obj = act(s, s.cls, null, "open", "open", AsynchronousSocketChannel::open);
                setters(s, "unconnected", 3);
                if (chance(0.4)) { String a = bindAddr(null); act(s, s.cls, null, "bind", "bind", () -> { ((AsynchronousSocketChannel) s.obj).bind(isa(a, 0)); return null; }, "new InetSocketAddress(\"" + a + "\", 0)"); }
            }
        }
    }

    static final List<Sock> udps = new ArrayList<>();

    static void udp() throws Exception {
        int kind = rnd.nextInt(3);
        String a = bindAddr(null);
        InetSocketAddress at = isa(a, 0);
        String atSrc = "new InetSocketAddress(\"" + a + "\", 0)";
        Sock s;
        if (kind < 2) {
            boolean multicast = kind == 1;
            String cls = multicast ? "java.net.MulticastSocket" : "java.net.DatagramSocket";
            s = new Sock(cls, "udp");
            String name = simple(cls);
            int how = rnd.nextInt(4);
            if (how == 0) { s.opened = "new " + name + "()"; s.obj = act(s, cls, null, "<init>", "open", () -> multicast ? new MulticastSocket() : new DatagramSocket()); }
            else if (how == 1) { s.opened = "new " + name + "(SocketAddress)"; s.obj = act(s, cls, null, "<init>", "open", () -> multicast ? new MulticastSocket(at) : new DatagramSocket(at), atSrc); }
            else {
                s.opened = "new " + name + "(null)";
                s.obj = act(s, cls, null, "<init>", "open", () -> multicast ? new MulticastSocket(null) : new DatagramSocket(null), "(SocketAddress) null");
                if (s.obj == null) return;
                setters(s, "before-bind", 3);
                Sock t = s;
                if (how == 2) act(s, cls, null, "bind", "bind", () -> { ((DatagramSocket) t.obj).bind(at); return null; }, atSrc);
            }
            if (s.obj == null) return;
            setters(s, "after-bind", 3);
        } else {
            String f = randomFamily();
            if ("INET".equals(f) && v6(a)) a = "127.0.0.1";
            if ("INET6".equals(f) && !v6(a)) a = pick("::1", "::");
            InetSocketAddress at2 = isa(a, 0);
            String at2Src = "new InetSocketAddress(\"" + a + "\", 0)";
            s = new Sock("java.nio.channels.DatagramChannel", "udp");
            s.family = f;
            s.opened = "DatagramChannel.open(" + familyOpen(f) + ")";
            s.obj = f == null ? act(s, s.cls, null, "open", "open", DatagramChannel::open) : act(s, s.cls, null, "open", "open", () -> DatagramChannel.open(pf(f)), familyOpen(f));
            if (s.obj == null) return;
            DatagramChannel ch = (DatagramChannel) s.obj;
            setters(s, "before-bind", 3);
            if (chance(0.8)) act(s, s.cls, null, "bind", "bind", () -> { ch.bind(at2); return null; }, at2Src);
            if (chance(0.4)) act(s, s.cls, null, "configureBlocking", "after-bind", () -> { ch.configureBlocking(false); return null; }, "false");
            setters(s, "after-bind", 2);
        }
        udps.add(s);
    }

    /** Connect some UDP sockets to another bound one of a compatible family, and send a datagram. */
    static void udpConnects() {
        for (Sock s : udps) {
            if (!chance(0.3)) continue;
            InetAddress mine = localInet(s.obj);
            for (Sock t : udps) {
                InetAddress ta = localInet(t.obj);
                if (t == s || ta == null || localPort(t.obj) <= 0) continue;
                if (ta.isAnyLocalAddress()) ta = addr(ta instanceof Inet6Address ? "::1" : "127.0.0.1");
                boolean t6 = ta instanceof Inet6Address;
                // An AF_INET socket, or one bound to an IPv4 address (wildcard included), talks IPv4 only;
                // one bound to ::1 talks IPv6 only; :: or unbound dual-stack sockets talk both.
                boolean only4 = v4only || "INET".equals(s.family) || mine instanceof Inet4Address;
                boolean only6 = mine instanceof Inet6Address && !mine.isAnyLocalAddress();
                if (only4 && t6 || only6 && !t6) continue;
                InetSocketAddress to = new InetSocketAddress(ta, localPort(t.obj));
                String toSrc = "new InetSocketAddress(\"" + ta.getHostAddress() + "\", " + to.getPort() + ")";
                if (s.obj instanceof DatagramSocket) act(s, s.cls, null, "connect", "connect", () -> { ((DatagramSocket) s.obj).connect(to); return null; }, toSrc);
                else act(s, s.cls, null, "connect", "connect", () -> ((DatagramChannel) s.obj).connect(to), toSrc);
                break;
            }
        }
    }

    /** The bound local address, or null when unbound. */
    static InetAddress localInet(Object o) {
        try {
            SocketAddress a = o instanceof DatagramSocket ? ((DatagramSocket) o).getLocalSocketAddress() : ((NetworkChannel) o).getLocalAddress();
            if (!(a instanceof InetSocketAddress) || ((InetSocketAddress) a).getPort() == 0) return null;
            return ((InetSocketAddress) a).getAddress();
        } catch (IOException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- final state

    static int fdOf(Sock s) {
        try {
            ArrayDeque<Object> queue = new ArrayDeque<>();
            Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            queue.add(s.obj);
            for (int visited = 0; !queue.isEmpty() && visited < 200; visited++) {
                Object o = queue.poll();
                if (!seen.add(o)) continue;
                for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
                    for (Field f : c.getDeclaredFields()) {
                        if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) continue;
                        f.setAccessible(true);
                        Object v = f.get(o);
                        if (v == null) continue;
                        if (v instanceof java.io.FileDescriptor) {
                            Field fd = java.io.FileDescriptor.class.getDeclaredField("fd");
                            fd.setAccessible(true);
                            int n = fd.getInt(v);
                            if (n >= 0) return n;
                            continue;
                        }
                        String n = v.getClass().getName();
                        if (n.startsWith("java.net.") || n.startsWith("sun.nio.ch.") || n.startsWith("java.nio.channels.")) queue.add(v);
                    }
                }
            }
            s.fdError = "no FileDescriptor reachable";
        } catch (Exception | Error e) {
            s.fdError = e.toString();
        }
        return -1;
    }

    static String ep(SocketAddress a) {
        if (!(a instanceof InetSocketAddress)) return "null";
        InetSocketAddress i = (InetSocketAddress) a;
        String h = i.getAddress() == null ? i.getHostString() : i.getAddress().getHostAddress().replaceAll("%.*$", "");
        return "{\"address\":" + q(h) + ",\"port\":" + i.getPort() + "}";
    }

    static String[] endpoints(Object o) {
        try {
            if (o instanceof Socket) { Socket x = (Socket) o; return new String[] {ep(x.getLocalSocketAddress()), ep(x.getRemoteSocketAddress())}; }
            if (o instanceof ServerSocket) return new String[] {ep(((ServerSocket) o).getLocalSocketAddress()), "null"};
            if (o instanceof DatagramSocket) { DatagramSocket x = (DatagramSocket) o; return new String[] {ep(x.getLocalSocketAddress()), ep(x.getRemoteSocketAddress())}; }
            if (o instanceof SocketChannel) { SocketChannel x = (SocketChannel) o; return new String[] {ep(x.getLocalAddress()), ep(x.getRemoteAddress())}; }
            if (o instanceof DatagramChannel) { DatagramChannel x = (DatagramChannel) o; return new String[] {ep(x.getLocalAddress()), ep(x.getRemoteAddress())}; }
            if (o instanceof AsynchronousSocketChannel) { AsynchronousSocketChannel x = (AsynchronousSocketChannel) o; return new String[] {ep(x.getLocalAddress()), ep(x.getRemoteAddress())}; }
            if (o instanceof NetworkChannel) return new String[] {ep(((NetworkChannel) o).getLocalAddress()), "null"};
        } catch (IOException e) {
            return new String[] {"null", "null"};
        }
        return new String[] {"null", "null"};
    }

    static String jsonValue(Object v) {
        if (v == null) return "null";
        if (v instanceof Boolean || v instanceof Integer) return v.toString();
        return q(v);
    }

    interface Getter {
        Object get() throws Exception;
    }

    static void getter(Map<String, String> out, String name, Getter g) {
        try {
            out.put(name, jsonValue(g.get()));
        } catch (Exception e) {
            out.put(name, q("error: " + e));
        }
    }

    @SuppressWarnings("deprecation")
    static Map<String, String> getters(Object o) {
        Map<String, String> m = new LinkedHashMap<>();
        if (o instanceof Socket) {
            Socket x = (Socket) o;
            getter(m, "getTcpNoDelay", x::getTcpNoDelay);
            getter(m, "getKeepAlive", x::getKeepAlive);
            getter(m, "getSoLinger", x::getSoLinger);
            getter(m, "getReuseAddress", x::getReuseAddress);
            getter(m, "getReceiveBufferSize", x::getReceiveBufferSize);
            getter(m, "getSendBufferSize", x::getSendBufferSize);
            getter(m, "getTrafficClass", x::getTrafficClass);
            getter(m, "getOOBInline", x::getOOBInline);
            getter(m, "getSoTimeout", x::getSoTimeout);
        } else if (o instanceof ServerSocket) {
            ServerSocket x = (ServerSocket) o;
            getter(m, "getReuseAddress", x::getReuseAddress);
            getter(m, "getReceiveBufferSize", x::getReceiveBufferSize);
            getter(m, "getSoTimeout", x::getSoTimeout);
        } else if (o instanceof DatagramSocket) {
            DatagramSocket x = (DatagramSocket) o;
            getter(m, "getBroadcast", x::getBroadcast);
            getter(m, "getReuseAddress", x::getReuseAddress);
            getter(m, "getReceiveBufferSize", x::getReceiveBufferSize);
            getter(m, "getSendBufferSize", x::getSendBufferSize);
            getter(m, "getTrafficClass", x::getTrafficClass);
            getter(m, "getSoTimeout", x::getSoTimeout);
            if (o instanceof MulticastSocket) {
                MulticastSocket y = (MulticastSocket) o;
                getter(m, "getTimeToLive", y::getTimeToLive);
                getter(m, "getLoopbackMode", y::getLoopbackMode);
            }
        }
        return m;
    }

    static String finalState(Sock s) {
        StringBuilder b = new StringBuilder("{\"id\":").append(q(s.id));
        boolean open = s.obj != null && !s.closed;
        if (open) s.fd = fdOf(s);
        b.append(",\"fd\":").append(s.fd);
        if (s.fdError != null) b.append(",\"fdError\":").append(q(s.fdError));
        b.append(",\"class\":").append(q(s.cls)).append(",\"opened\":").append(q(s.opened)).append(",\"family\":").append(q(s.family))
                .append(",\"role\":").append(q(s.role));
        if (s.listener != null) b.append(",\"listener\":").append(q(s.listener)).append(",\"listenerClosed\":").append(s.listenerClosed);
        if (s.reusePortGroup != null) b.append(",\"reusePortGroup\":").append(q(s.reusePortGroup));
        if (s.boundTo != null) b.append(",\"boundTo\":").append(q(s.boundTo));
        b.append(",\"closed\":").append(s.closed || s.obj == null);
        if (s.localAtClose != null) b.append(",\"localAtClose\":").append(s.localAtClose);
        if (open) {
            String[] e = endpoints(s.obj);
            b.append(",\"local\":").append(e[0]).append(",\"remote\":").append(e[1]);
            if (s.obj instanceof SelectableChannel) b.append(",\"blocking\":").append(((SelectableChannel) s.obj).isBlocking());
            if (s.soTimeout != null) b.append(",\"soTimeout\":").append(s.soTimeout);
            b.append(",\"sent\":").append(s.sent).append(",\"received\":").append(s.received);
            Map<String, String> opts = new TreeMap<>();
            List<String> sup = new ArrayList<>();
            for (SocketOption<?> so : supported(s.obj)) {
                sup.add(q(so.name()));
                try {
                    opts.put(so.name(), jsonValue(getOpt(s.obj, so)));
                } catch (Exception ex) {
                    opts.put(so.name(), q("error: " + ex));
                }
            }
            Collections.sort(sup);
            b.append(",\"supported\":").append(arr(sup));
            b.append(",\"options\":{");
            int i = 0;
            for (Map.Entry<String, String> en : opts.entrySet()) b.append(i++ > 0 ? "," : "").append(q(en.getKey())).append(':').append(en.getValue());
            b.append('}');
            Object javaNet = s.obj instanceof NetworkChannel ? classicTarget(s, true) : s.obj;
            Map<String, String> g = getters(javaNet);
            b.append(",\"getters\":{");
            i = 0;
            for (Map.Entry<String, String> en : g.entrySet()) b.append(i++ > 0 ? "," : "").append(q(en.getKey())).append(':').append(en.getValue());
            b.append('}');
        }
        b.append(",\"calls\":").append(arr(s.calls)).append('}');
        return b.toString();
    }

    // ---------------------------------------------------------------- main

    static int[] triple(String file) {
        try {
            // readLine, not readAllBytes: procfs files report size 0 and a sized read may stop early.
            String[] p = Files.newBufferedReader(Path.of(file)).readLine().trim().split("\\s+");
            int[] out = new int[p.length];
            for (int i = 0; i < p.length; i++) out[i] = Integer.parseInt(p[i]);
            return out;
        } catch (Exception e) {
            return null;
        }
    }

    static void sysctls() {
        int[] w = triple("/proc/sys/net/ipv4/tcp_wmem"), r = triple("/proc/sys/net/ipv4/tcp_rmem");
        if (w != null && w.length == 3) { tcpWmemDef = w[1]; tcpWmemMax = w[2]; }
        if (r != null && r.length == 3) tcpRmemDef = r[1];
        int[] x;
        if ((x = triple("/proc/sys/net/core/wmem_max")) != null) wmemMax = x[0];
        if ((x = triple("/proc/sys/net/core/rmem_max")) != null) rmemMax = x[0];
        if ((x = triple("/proc/sys/net/core/wmem_default")) != null) udpWmemDef = x[0];
        if ((x = triple("/proc/sys/net/core/rmem_default")) != null) udpRmemDef = x[0];
        if ((x = triple("/proc/sys/net/core/somaxconn")) != null) somaxconn = x[0];
    }

    public static void main(String[] args) throws Exception {
        String recordFile = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--seed")) seed = Long.parseLong(args[++i]);
            else if (args[i].equals("--record")) recordFile = args[++i];
            else throw new IllegalArgumentException("usage: TruthLab --seed N --record FILE");
        }
        if (recordFile == null) throw new IllegalArgumentException("usage: TruthLab --seed N --record FILE");
        rnd = new Random(seed);
        sysctls();
        v4only = Boolean.getBoolean("java.net.preferIPv4Stack");
        ipv6 = false;
        if (!v4only) {
            try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET6)) {
                probe.bind(isa("::1", 0));
                ipv6 = true;
            } catch (Exception e) {
                ipv6 = false;
            }
        }
        marker = SocketChannel.open(StandardProtocolFamily.UNIX);

        int servers = 3 + rnd.nextInt(3);
        for (int i = 0; i < servers; i++) server();
        reusePortPair();
        reusePortClient();
        int unc = 2 + rnd.nextInt(3);
        for (int i = 0; i < unc; i++) unconnected();
        int u = 3 + rnd.nextInt(3);
        for (int i = 0; i < u; i++) udp();
        udpConnects();

        int markerFd = -1;
        {
            Sock m = new Sock("java.nio.channels.SocketChannel", "marker");
            m.obj = marker;
            markerFd = fdOf(m);
            socks.remove(m);
        }
        List<String> out = new ArrayList<>();
        for (Sock s : socks) out.add(finalState(s));
        Runtime.Version v = Runtime.version();
        List<String> input = new ArrayList<>();
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) input.add(q(a));
        List<String> env = new ArrayList<>();
        for (String e : new String[] {"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"}) {
            if (System.getenv(e) != null) env.add(q(e) + ":" + q(System.getenv(e)));
        }
        String record = "{\"tool\":\"TruthLab\",\"format\":1,\"seed\":" + seed + ",\"pid\":" + ProcessHandle.current().pid()
                + ",\"java\":{\"version\":" + q(System.getProperty("java.version")) + ",\"feature\":" + v.feature()
                + ",\"vendor\":" + q(System.getProperty("java.vendor")) + ",\"home\":" + q(System.getProperty("java.home")) + "}"
                + ",\"preferIPv4Stack\":" + v4only + ",\"ipv6\":" + ipv6
                + ",\"inputArguments\":" + arr(input) + ",\"env\":{" + String.join(",", env) + "}"
                + ",\"sysctl\":{\"tcp_wmem_default\":" + tcpWmemDef + ",\"tcp_rmem_default\":" + tcpRmemDef + ",\"tcp_wmem_max\":" + tcpWmemMax
                + ",\"wmem_max\":" + wmemMax + ",\"rmem_max\":" + rmemMax + ",\"somaxconn\":" + somaxconn + "}"
                + ",\"marker\":{\"fd\":" + markerFd + ",\"begin\":\"SO_RCVBUF\",\"end\":\"SO_SNDBUF\",\"base\":1000000}"
                + ",\"calls\":" + seq
                + ",\"sockets\":[\n" + String.join(",\n", out) + "\n]}\n";
        Path tmp = Path.of(recordFile + ".tmp");
        Files.write(tmp, record.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.move(tmp, Path.of(recordFile), java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        System.out.println("READY {\"pid\":" + ProcessHandle.current().pid() + ",\"record\":" + q(recordFile) + ",\"sockets\":" + socks.size() + "}");
        System.out.flush();
        InputStream in = System.in;
        while (in.read() >= 0) { /* hold the sockets until stdin closes */ }
        System.exit(0);
    }
}
