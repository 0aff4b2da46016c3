import java.io.IOException;
import java.net.*;
import java.nio.channels.*;
import java.util.*;
import jdk.net.ExtendedSocketOptions;

/**
 * A seeded mix of loopback sockets of every Java kind (Socket, ServerSocket and
 * the sockets it accepts, SocketChannel, ServerSocketChannel, DatagramSocket,
 * MulticastSocket, DatagramChannel; IPv4 and IPv6), each with a random subset
 * of the options Java can set, and sometimes bound to a chosen address or port.
 * It prints one line "READY {json}" naming, for every socket, its ports and
 * exactly which kernel options this program set on it (or on the listener an
 * accepted socket came from, where the kernel copies them), then holds the
 * sockets until stdin closes or it is killed.
 *
 *   java OptionMix <seed> <groups>
 */
public class OptionMix {
    static final List<Object> keep = new ArrayList<>();
    static final StringBuilder json = new StringBuilder();
    static Random rnd;

    public static void main(String[] args) throws Exception {
        rnd = new Random(Long.parseLong(args[0]));
        int groups = Integer.parseInt(args[1]);
        json.append("{\"pid\":").append(ProcessHandle.current().pid()).append(",\"sockets\":[");
        for (int i = 0; i < groups; i++) {
            boolean v6 = rnd.nextBoolean();
            switch (rnd.nextInt(6)) {
                case 0: server(i, v6); break;
                case 1: sschannel(i, v6); break;
                case 2: client(i, v6); break;
                case 3: schannel(i, v6); break;
                case 4: datagram(i, v6); break;
                default: dchannel(i, v6); break;
            }
        }
        json.append("]}");
        System.out.println("READY " + json);
        System.out.flush();
        while (System.in.read() >= 0) { /* hold until stdin closes */ }
    }

    static InetAddress loopback(boolean v6) throws UnknownHostException {
        return InetAddress.getByName(v6 ? "::1" : "127.0.0.1");
    }

    /** What was set on one socket (kernel option names) and how it was bound. */
    static final class Set {
        final TreeSet<String> names = new TreeSet<>();
        boolean bindAddr, bindPort;
        Set copy() { Set s = new Set(); s.names.addAll(names); s.bindAddr = bindAddr; return s; }
    }

    static void entry(String id, String kind, int local, int remote, Set set) {
        if (json.charAt(json.length() - 1) != '[') json.append(',');
        json.append("{\"id\":\"").append(id).append("\",\"kind\":\"").append(kind).append("\",\"local\":").append(local)
            .append(",\"remote\":").append(remote).append(",\"bindAddr\":").append(set.bindAddr)
            .append(",\"bindPort\":").append(set.bindPort).append(",\"set\":[");
        boolean first = true;
        for (String n : set.names) { if (!first) json.append(','); json.append('"').append(n).append('"'); first = false; }
        json.append("]}");
    }

    /** A port nobody holds right now on any address, for binds that name one. */
    static int freePort() throws IOException {
        try (ServerSocket p = new ServerSocket(0)) { return p.getLocalPort(); }
    }

    interface Binder { void bind(SocketAddress a) throws IOException; }

    /**
     * Binds as an application would: the wildcard or loopback, port 0 or a port
     * of its own (tried again with another when someone took it meanwhile).
     */
    static void bind(Binder b, boolean v6, Set set) throws IOException {
        set.bindAddr = rnd.nextBoolean();
        set.bindPort = rnd.nextInt(3) == 0;
        InetAddress a = set.bindAddr ? loopback(v6) : InetAddress.getByName(v6 ? "::" : "0.0.0.0");
        for (int tries = 0; ; tries++) {
            try {
                b.bind(new InetSocketAddress(a, set.bindPort ? freePort() : 0));
                return;
            } catch (BindException e) {
                if (!set.bindPort || tries == 5) throw e;
            }
        }
    }

    static int pick(int... xs) { return xs[rnd.nextInt(xs.length)]; }
    static boolean chance(int percent) { return rnd.nextInt(100) < percent; }

    /** Options of a connected TCP socket, through the classic setters or setOption. */
    static void tcpOptions(Object s, Set set) throws IOException {
        if (chance(40)) { opt(s, StandardSocketOptions.SO_RCVBUF, pick(4096, 65536, 262144)); set.names.add("SO_RCVBUF"); }
        if (chance(40)) { opt(s, StandardSocketOptions.SO_SNDBUF, pick(8192, 65536, 1 << 20)); set.names.add("SO_SNDBUF"); }
        if (chance(40)) { opt(s, StandardSocketOptions.TCP_NODELAY, rnd.nextBoolean()); set.names.add("TCP_NODELAY"); }
        if (chance(40)) { opt(s, StandardSocketOptions.SO_KEEPALIVE, rnd.nextBoolean()); set.names.add("SO_KEEPALIVE"); }
        if (chance(30)) { opt(s, ExtendedSocketOptions.TCP_KEEPIDLE, pick(1, 30, 600, 7200)); set.names.add("TCP_KEEPIDLE"); }
        if (chance(30)) { opt(s, ExtendedSocketOptions.TCP_KEEPINTERVAL, pick(1, 10, 75)); set.names.add("TCP_KEEPINTVL"); }
        if (chance(30)) { opt(s, ExtendedSocketOptions.TCP_KEEPCOUNT, pick(1, 5, 9)); set.names.add("TCP_KEEPCNT"); }
        if (chance(30)) { opt(s, StandardSocketOptions.SO_LINGER, pick(-1, 0, 3, 60)); set.names.add("SO_LINGER"); }
        if (chance(30)) { opt(s, StandardSocketOptions.IP_TOS, pick(0x10, 0x20, 0xb8)); set.names.add("IP_TOS"); }
        if (chance(20)) { opt(s, ExtendedSocketOptions.TCP_QUICKACK, rnd.nextBoolean()); set.names.add("TCP_QUICKACK"); }
        if (chance(20) && s instanceof Socket) { ((Socket) s).setOOBInline(true); set.names.add("SO_OOBINLINE"); }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static void opt(Object s, SocketOption o, Object v) throws IOException {
        if (s instanceof NetworkChannel) ((NetworkChannel) s).setOption(o, v);
        else if (s instanceof Socket) ((Socket) s).setOption(o, v);
        else if (s instanceof ServerSocket) ((ServerSocket) s).setOption(o, v);
        else ((DatagramSocket) s).setOption(o, v);
    }

    /** Listener options: what a ServerSocket or ServerSocketChannel accepts. */
    static void listenerOptions(Object s, Set set) throws IOException {
        if (chance(50)) { opt(s, StandardSocketOptions.SO_RCVBUF, pick(8192, 65536, 131072)); set.names.add("SO_RCVBUF"); }
        if (chance(30)) { opt(s, StandardSocketOptions.SO_REUSEPORT, true); set.names.add("SO_REUSEPORT"); }
    }

    static void server(int i, boolean v6) throws IOException {
        ServerSocket ss = new ServerSocket();
        Set ls = new Set();
        listenerOptions(ss, ls);
        int backlog = pick(5, 50, 200);
        bind(a -> ss.bind(a, backlog), v6, ls);
        keep.add(ss);
        Socket c = new Socket();
        Set cs = new Set();
        tcpOptions(c, cs);
        c.connect(new InetSocketAddress(loopback(v6), ss.getLocalPort()));
        Socket a = ss.accept();
        Set as = ls.copy();
        tcpOptions(a, as);
        keep.add(c); keep.add(a);
        entry("g" + i, "ServerSocket", ss.getLocalPort(), 0, ls);
        entry("g" + i + ".client", "Socket", c.getLocalPort(), c.getPort(), cs);
        entry("g" + i + ".accepted", "accepted Socket", a.getLocalPort(), a.getPort(), as);
    }

    static void sschannel(int i, boolean v6) throws IOException {
        ServerSocketChannel ss = ServerSocketChannel.open(v6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        Set ls = new Set();
        listenerOptions(ss, ls);
        bind(ss::bind, v6, ls);
        keep.add(ss);
        int port = ((InetSocketAddress) ss.getLocalAddress()).getPort();
        SocketChannel c = SocketChannel.open(v6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        Set cs = new Set();
        tcpOptions(c, cs);
        c.connect(new InetSocketAddress(loopback(v6), port));
        SocketChannel a = ss.accept();
        Set as = ls.copy();
        tcpOptions(a, as);
        keep.add(c); keep.add(a);
        int cport = ((InetSocketAddress) c.getLocalAddress()).getPort();
        entry("g" + i, "ServerSocketChannel", port, 0, ls);
        entry("g" + i + ".client", "SocketChannel", cport, port, cs);
        entry("g" + i + ".accepted", "accepted SocketChannel", port, cport, as);
    }

    /** A client bound first (sometimes), then connected to a listener of its own. */
    static void client(int i, boolean v6) throws IOException {
        ServerSocket peer = new ServerSocket(0, 50, loopback(v6));
        keep.add(peer);
        Socket c = new Socket();
        Set cs = new Set();
        tcpOptions(c, cs);
        if (chance(40)) {
            c.bind(new InetSocketAddress(loopback(v6), 0));
            cs.bindAddr = true;
        }
        c.connect(peer.getLocalSocketAddress());
        keep.add(c);
        keep.add(peer.accept());
        entry("g" + i, "Socket", c.getLocalPort(), peer.getLocalPort(), cs);
    }

    static void schannel(int i, boolean v6) throws IOException {
        ServerSocket peer = new ServerSocket(0, 50, loopback(v6));
        keep.add(peer);
        SocketChannel c = SocketChannel.open(v6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        Set cs = new Set();
        tcpOptions(c, cs);
        c.connect(peer.getLocalSocketAddress());
        keep.add(c);
        keep.add(peer.accept());
        entry("g" + i, "SocketChannel", ((InetSocketAddress) c.getLocalAddress()).getPort(), peer.getLocalPort(), cs);
    }

    static void udpOptions(Object d, Set set, boolean multicast) throws IOException {
        if (chance(40)) { opt(d, StandardSocketOptions.SO_RCVBUF, pick(4096, 65536, 212992)); set.names.add("SO_RCVBUF"); }
        if (chance(40)) { opt(d, StandardSocketOptions.SO_SNDBUF, pick(4096, 65536)); set.names.add("SO_SNDBUF"); }
        if (chance(40)) { opt(d, StandardSocketOptions.SO_BROADCAST, rnd.nextBoolean()); set.names.add("SO_BROADCAST"); }
        if (chance(30)) { opt(d, StandardSocketOptions.IP_TOS, pick(0x08, 0x28, 0xb8)); set.names.add("IP_TOS"); }
        if (multicast && chance(50)) { opt(d, StandardSocketOptions.IP_MULTICAST_TTL, rnd.nextInt(256)); set.names.add("IP_MULTICAST_TTL"); }
        if (multicast && chance(50)) { opt(d, StandardSocketOptions.IP_MULTICAST_LOOP, rnd.nextBoolean()); set.names.add("IP_MULTICAST_LOOP"); }
    }

    static void datagram(int i, boolean v6) throws IOException {
        boolean mc = rnd.nextBoolean();
        DatagramSocket d = mc ? new MulticastSocket(null) : new DatagramSocket(null);
        Set ds = new Set();
        udpOptions(d, ds, mc);
        bind(d::bind, v6, ds);
        if (chance(30)) d.connect(new InetSocketAddress(loopback(v6), freePort()));
        keep.add(d);
        entry("g" + i, mc ? "MulticastSocket" : "DatagramSocket", d.getLocalPort(), Math.max(d.getPort(), 0), ds);
    }

    static void dchannel(int i, boolean v6) throws IOException {
        DatagramChannel d = DatagramChannel.open(v6 ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        Set ds = new Set();
        udpOptions(d, ds, true);
        bind(d::bind, v6, ds);
        int remote = 0;
        if (chance(30)) { remote = freePort(); d.connect(new InetSocketAddress(loopback(v6), remote)); }
        keep.add(d);
        entry("g" + i, "DatagramChannel", ((InetSocketAddress) d.getLocalAddress()).getPort(), remote, ds);
    }
}
