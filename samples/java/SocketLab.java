import java.io.IOException;
import java.net.*;
import java.nio.channels.*;
import java.util.*;
import jdk.net.ExtendedSocketOptions;

/**
 * Opens sockets described on the command line, sets exactly the options asked
 * for, prints one line "READY {json}" and then holds them until killed or until
 * stdin closes. Tests and the demo use it to know what the application set.
 *
 *   java SocketLab <id>:<kind>[:<opt>=<value>[,<opt>=<value>...]] ...
 *
 * kinds: server, server6, sschannel, sschannel6 (listeners; each also gets a client
 *        and the accepted socket: ids <id>.client and <id>.accepted),
 *        client, client6, schannel, schannel6 (a client of a default listener opened for it),
 *        udp, udp6, mcast, mcast6, dchannel (open()), dchannelinet (open(INET)), dchannel6 (open(INET6)),
 *        stall, stall6 (a listener, a writer and a reader that never reads: zero windows),
 *        dial (a client of host=<addr>,port=<n>; with other options as for client)
 * stdin: "write <id> <n>" writes n bytes to client/dial socket <id> and answers "OK ..." 
 * opts:  shutdownInput shutdownOutput (client, after connect)
 *        tcpNoDelay keepAlive soLinger reuseAddress reusePort rcvBuf sndBuf trafficClass
 *        oobInline broadcast ttl loop keepIdle keepInterval keepCount quickAck backlog
 *        child.<opt> (listeners: set on the accepted socket), client.<opt> (listeners: on their client)
 */
public class SocketLab {
    static final List<Object> keep = new ArrayList<>();
    static final Map<String, Object> byId = new HashMap<>();
    static final StringBuilder json = new StringBuilder();

    public static void main(String[] args) throws Exception {
        json.append("{\"pid\":").append(ProcessHandle.current().pid()).append(",\"sockets\":{");
        for (String spec : args) {
            String[] parts = spec.split(":", 3);
            String id = parts[0], kind = parts[1];
            Map<String, String> opts = new LinkedHashMap<>();
            if (parts.length > 2 && !parts[2].isEmpty()) {
                for (String kv : parts[2].split(",")) {
                    String[] p = kv.split("=", 2);
                    opts.put(p[0], p.length > 1 ? p[1] : "true");
                }
            }
            open(id, kind, opts);
        }
        json.append("}}");
        System.out.println("READY " + json);
        System.out.flush();
        // Hold the sockets until stdin closes or we are killed. Commands on stdin:
        //   write <id> <bytes>   write that many zero bytes to socket <id>
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 3 && p[0].equals("write")) {
                Object o = byId.get(p[1]);
                byte[] b = new byte[Integer.parseInt(p[2])];
                if (o instanceof Socket) { ((Socket) o).getOutputStream().write(b); ((Socket) o).getOutputStream().flush(); }
                else if (o instanceof SocketChannel) ((SocketChannel) o).write(java.nio.ByteBuffer.wrap(b));
                System.out.println("OK " + line);
                System.out.flush();
            }
        }
    }

    static Map<String, String> only(Map<String, String> opts, String prefix) {
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : opts.entrySet()) {
            String k = e.getKey();
            if (prefix == null ? !k.contains(".") : k.startsWith(prefix + ".")) {
                out.put(prefix == null ? k : k.substring(prefix.length() + 1), e.getValue());
            }
        }
        return out;
    }

    static InetAddress loopback(boolean v6) throws UnknownHostException {
        return InetAddress.getByName(v6 ? "::1" : "127.0.0.1");
    }

    static void entry(String id, String kind, int local, int remote) {
        if (json.charAt(json.length() - 1) != '{') json.append(',');
        json.append('"').append(id).append("\":{\"kind\":\"").append(kind)
            .append("\",\"localPort\":").append(local).append(",\"remotePort\":").append(remote).append('}');
    }

    static void open(String id, String kind, Map<String, String> opts) throws Exception {
        boolean v6 = kind.endsWith("6");
        String k = v6 ? kind.substring(0, kind.length() - 1) : kind;
        Map<String, String> own = only(opts, null);
        switch (k) {
            case "server": {
                ServerSocket ss = new ServerSocket();
                setServer(ss, own);
                Integer backlog = own.containsKey("backlog") ? Integer.valueOf(own.get("backlog")) : null;
                if (backlog != null) ss.bind(new InetSocketAddress(loopback(v6), 0), backlog);
                else ss.bind(new InetSocketAddress(loopback(v6), 0));
                keep.add(ss);
                Socket c = new Socket();
                setSocket(c, only(opts, "client"));
                c.connect(ss.getLocalSocketAddress());
                Socket a = ss.accept();
                setSocket(a, only(opts, "child"));
                keep.add(c); keep.add(a);
                entry(id, kind, ss.getLocalPort(), 0);
                entry(id + ".client", "client" + (v6 ? "6" : ""), c.getLocalPort(), c.getPort());
                entry(id + ".accepted", "accepted" + (v6 ? "6" : ""), a.getLocalPort(), a.getPort());
                return;
            }
            case "sschannel": {
                ServerSocketChannel ss = ServerSocketChannel.open();
                for (var e : own.entrySet()) if (!e.getKey().equals("backlog")) setOpt(ss, e.getKey(), e.getValue());
                if (own.containsKey("backlog")) ss.bind(new InetSocketAddress(loopback(v6), 0), Integer.parseInt(own.get("backlog")));
                else ss.bind(new InetSocketAddress(loopback(v6), 0));
                keep.add(ss);
                SocketChannel c = SocketChannel.open();
                for (var e : only(opts, "client").entrySet()) setOpt(c, e.getKey(), e.getValue());
                c.connect(ss.getLocalAddress());
                SocketChannel a = ss.accept();
                for (var e : only(opts, "child").entrySet()) setOpt(a, e.getKey(), e.getValue());
                keep.add(c); keep.add(a);
                int port = ((InetSocketAddress) ss.getLocalAddress()).getPort();
                entry(id, kind, port, 0);
                entry(id + ".client", "schannel" + (v6 ? "6" : ""), ((InetSocketAddress) c.getLocalAddress()).getPort(), port);
                entry(id + ".accepted", "accepted" + (v6 ? "6" : ""), port, ((InetSocketAddress) a.getRemoteAddress()).getPort());
                return;
            }
            case "client": case "schannel": {
                ServerSocket peer = new ServerSocket(0, 50, loopback(v6));
                keep.add(peer);
                int local;
                // shutdownInput/shutdownOutput: after connect, not options.
                boolean shutIn = own.remove("shutdownInput") != null, shutOut = own.remove("shutdownOutput") != null;
                if (k.equals("client")) {
                    Socket c = new Socket();
                    setSocket(c, own);
                    c.connect(peer.getLocalSocketAddress());
                    if (shutIn) c.shutdownInput();
                    if (shutOut) c.shutdownOutput();
                    local = c.getLocalPort();
                    keep.add(c);
                    byId.put(id, c);
                } else {
                    SocketChannel c = SocketChannel.open();
                    for (var e : own.entrySet()) setOpt(c, e.getKey(), e.getValue());
                    c.connect(peer.getLocalSocketAddress());
                    local = ((InetSocketAddress) c.getLocalAddress()).getPort();
                    keep.add(c);
                }
                Socket pa = peer.accept();
                keep.add(pa);
                entry(id, kind, local, peer.getLocalPort());
                entry(id + ".peer", "server" + (v6 ? "6" : ""), peer.getLocalPort(), 0);
                entry(id + ".peerAccepted", "accepted" + (v6 ? "6" : ""), peer.getLocalPort(), pa.getPort());
                return;
            }
            case "dial": {
                // A client of a server elsewhere (another network namespace): host=..., port=...
                Socket c = new Socket();
                Map<String, String> rest = new LinkedHashMap<>(own);
                String host = rest.remove("host");
                int port = Integer.parseInt(rest.remove("port"));
                setSocket(c, rest);
                c.connect(new InetSocketAddress(host, port), 5000);
                keep.add(c);
                byId.put(id, c);
                entry(id, kind, c.getLocalPort(), port);
                return;
            }
            case "stall": {
                // A reader that never reads: the writer fills the receiver's window until both are 0.
                ServerSocketChannel ss = ServerSocketChannel.open();
                ss.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
                ss.bind(new InetSocketAddress(loopback(v6), 0));
                SocketChannel w = SocketChannel.open(ss.getLocalAddress());
                SocketChannel r = ss.accept();
                w.configureBlocking(false);
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(65536);
                long idleSince = System.nanoTime();
                while (System.nanoTime() - idleSince < 300_000_000L) {
                    buf.clear();
                    if (w.write(buf) > 0) idleSince = System.nanoTime(); else Thread.sleep(10);
                }
                keep.add(ss); keep.add(w); keep.add(r);
                int port = ((InetSocketAddress) ss.getLocalAddress()).getPort();
                int wport = ((InetSocketAddress) w.getLocalAddress()).getPort();
                entry(id, kind, port, 0);
                entry(id + ".writer", "schannel" + (v6 ? "6" : ""), wport, port);
                entry(id + ".reader", "accepted" + (v6 ? "6" : ""), port, wport);
                return;
            }
            case "udp": case "mcast": {
                DatagramSocket d = k.equals("mcast") ? new MulticastSocket(null) : new DatagramSocket(null);
                for (var e : own.entrySet()) setDatagram(d, e.getKey(), e.getValue());
                d.bind(new InetSocketAddress(loopback(v6), 0));
                keep.add(d);
                entry(id, kind, d.getLocalPort(), 0);
                return;
            }
            case "dchannel": case "dchannelinet": {
                // dchannel: DatagramChannel.open() as most code calls it; dchannelinet: open(INET); dchannel6: open(INET6)
                DatagramChannel d = v6 ? DatagramChannel.open(StandardProtocolFamily.INET6)
                    : k.equals("dchannelinet") ? DatagramChannel.open(StandardProtocolFamily.INET) : DatagramChannel.open();
                for (var e : own.entrySet()) setOpt(d, e.getKey(), e.getValue());
                d.bind(new InetSocketAddress(loopback(v6), 0));
                keep.add(d);
                entry(id, kind, ((InetSocketAddress) d.getLocalAddress()).getPort(), 0);
                return;
            }
            default:
                throw new IllegalArgumentException("unknown kind " + kind);
        }
    }

    static boolean bool(String v) { return Boolean.parseBoolean(v); }
    static int num(String v) { return v.startsWith("0x") ? Integer.parseInt(v.substring(2), 16) : Integer.parseInt(v); }

    static void setServer(ServerSocket s, Map<String, String> opts) throws IOException {
        for (var e : opts.entrySet()) {
            String v = e.getValue();
            switch (e.getKey()) {
                case "backlog": break;
                case "reuseAddress": s.setReuseAddress(bool(v)); break;
                case "rcvBuf": s.setReceiveBufferSize(num(v)); break;
                default: setOpt(s, e.getKey(), v);
            }
        }
    }

    static void setSocket(Socket s, Map<String, String> opts) throws IOException {
        for (var e : opts.entrySet()) {
            String v = e.getValue();
            switch (e.getKey()) {
                case "tcpNoDelay": s.setTcpNoDelay(bool(v)); break;
                case "keepAlive": s.setKeepAlive(bool(v)); break;
                case "soLinger": { int n = Integer.parseInt(v); s.setSoLinger(n >= 0, Math.max(n, 0)); break; }
                case "reuseAddress": s.setReuseAddress(bool(v)); break;
                case "rcvBuf": s.setReceiveBufferSize(num(v)); break;
                case "sndBuf": s.setSendBufferSize(num(v)); break;
                case "trafficClass": s.setTrafficClass(num(v)); break;
                case "oobInline": s.setOOBInline(bool(v)); break;
                case "soTimeout": s.setSoTimeout(num(v)); break;
                default: setOpt(s, e.getKey(), v);
            }
        }
    }

    static void setDatagram(DatagramSocket d, String key, String v) throws IOException {
        switch (key) {
            case "broadcast": d.setBroadcast(bool(v)); break;
            case "reuseAddress": d.setReuseAddress(bool(v)); break;
            case "rcvBuf": d.setReceiveBufferSize(num(v)); break;
            case "sndBuf": d.setSendBufferSize(num(v)); break;
            case "trafficClass": d.setTrafficClass(num(v)); break;
            case "ttl": ((MulticastSocket) d).setTimeToLive(num(v)); break;
            case "soTimeout": d.setSoTimeout(num(v)); break;
            default: setOpt(d, key, v);
        }
    }

    /** The setOption route: StandardSocketOptions and jdk.net.ExtendedSocketOptions. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void setOpt(Object target, String key, String v) throws IOException {
        SocketOption opt;
        Object val;
        switch (key) {
            case "tcpNoDelay": opt = StandardSocketOptions.TCP_NODELAY; val = bool(v); break;
            case "keepAlive": opt = StandardSocketOptions.SO_KEEPALIVE; val = bool(v); break;
            case "soLinger": opt = StandardSocketOptions.SO_LINGER; val = num(v); break;
            case "reuseAddress": opt = StandardSocketOptions.SO_REUSEADDR; val = bool(v); break;
            case "reusePort": opt = StandardSocketOptions.SO_REUSEPORT; val = bool(v); break;
            case "rcvBuf": opt = StandardSocketOptions.SO_RCVBUF; val = num(v); break;
            case "sndBuf": opt = StandardSocketOptions.SO_SNDBUF; val = num(v); break;
            case "trafficClass": opt = StandardSocketOptions.IP_TOS; val = num(v); break;
            case "broadcast": opt = StandardSocketOptions.SO_BROADCAST; val = bool(v); break;
            case "ttl": opt = StandardSocketOptions.IP_MULTICAST_TTL; val = num(v); break;
            case "loop": opt = StandardSocketOptions.IP_MULTICAST_LOOP; val = bool(v); break;
            case "keepIdle": opt = ExtendedSocketOptions.TCP_KEEPIDLE; val = num(v); break;
            case "keepInterval": opt = ExtendedSocketOptions.TCP_KEEPINTERVAL; val = num(v); break;
            case "keepCount": opt = ExtendedSocketOptions.TCP_KEEPCOUNT; val = num(v); break;
            case "quickAck": opt = ExtendedSocketOptions.TCP_QUICKACK; val = bool(v); break;
            default: throw new IllegalArgumentException("unknown option " + key);
        }
        if (target instanceof NetworkChannel) ((NetworkChannel) target).setOption(opt, val);
        else if (target instanceof Socket) ((Socket) target).setOption(opt, val);
        else if (target instanceof ServerSocket) ((ServerSocket) target).setOption(opt, val);
        else if (target instanceof DatagramSocket) ((DatagramSocket) target).setOption(opt, val);
        else throw new IllegalArgumentException("cannot set " + key + " on " + target);
    }
}
