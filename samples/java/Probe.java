// The JDK-defaults probe: opens one socket of every kind the JDK offers and
// sets NO option on any of them, so every setsockopt(2) the process makes is
// the JDK's own doing. Run it under strace (test/helpers/strace.ts) to see
// what the JDK sets by itself; mappings/jdk-defaults.json records the result.
//
// Each kind is opened against 127.0.0.1 ("ipv4") and, unless the IPv6 stack
// is off (-Djava.net.preferIPv4Stack=true) or missing, against ::1 ("ipv6").
// Clients connect to their own server, so the remote port tells them apart.
//
// Prints one line: READY {"pid":..,"java":{..},"preferIPv4Stack":..,
//   "sockets":{"ipv4":{kind:{"localPort":..,"remotePort":..,"localAddress":..}},"ipv6":{..}}}
// then waits until stdin closes or the process is killed.
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class Probe {
    /** Keeps every socket reachable so none is closed by a GC. */
    private static final List<AutoCloseable> KEEP = new ArrayList<>();

    private static final class Entry {
        final String local;
        final int localPort;
        final int remotePort;

        Entry(InetSocketAddress local, InetSocketAddress remote) {
            this.local = local.getAddress().getHostAddress();
            this.localPort = local.getPort();
            this.remotePort = remote == null ? -1 : remote.getPort();
        }

        String json() {
            StringBuilder b = new StringBuilder("{\"localAddress\":").append(str(local))
                    .append(",\"localPort\":").append(localPort);
            if (remotePort >= 0) b.append(",\"remotePort\":").append(remotePort);
            return b.append('}').toString();
        }
    }

    private static String str(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static <T extends AutoCloseable> T keep(T c) {
        KEEP.add(c);
        return c;
    }

    private static Entry of(Socket s) {
        return new Entry((InetSocketAddress) s.getLocalSocketAddress(), (InetSocketAddress) s.getRemoteSocketAddress());
    }

    private static Entry of(ServerSocket s) {
        return new Entry((InetSocketAddress) s.getLocalSocketAddress(), null);
    }

    private static Entry of(DatagramSocket s) {
        return new Entry((InetSocketAddress) s.getLocalSocketAddress(), null);
    }

    private static Entry of(NetworkChannel c) throws IOException {
        SocketAddress remote = c instanceof SocketChannel ? ((SocketChannel) c).getRemoteAddress() : null;
        return new Entry((InetSocketAddress) c.getLocalAddress(), (InetSocketAddress) remote);
    }

    private static Entry of(AsynchronousServerSocketChannel c) throws IOException {
        return new Entry((InetSocketAddress) c.getLocalAddress(), null);
    }

    private static Entry of(AsynchronousSocketChannel c) throws IOException {
        return new Entry((InetSocketAddress) c.getLocalAddress(), (InetSocketAddress) c.getRemoteAddress());
    }

    /** Opens every kind bound to / connected over addr. No socket option is set anywhere. */
    private static Map<String, Entry> probe(InetAddress addr, boolean inet4) throws Exception {
        Map<String, Entry> m = new LinkedHashMap<>();
        InetSocketAddress any = new InetSocketAddress(addr, 0);

        // Classic TCP: ServerSocket with the default backlog, a Socket connected to it, the accepted Socket.
        ServerSocket ss = keep(new ServerSocket());
        ss.bind(any);
        m.put("serverSocket", of(ss));
        Socket client = keep(new Socket());
        client.connect(new InetSocketAddress(addr, ss.getLocalPort()));
        m.put("socket", of(client));
        Socket accepted = keep(ss.accept());
        m.put("acceptedSocket", of(accepted));

        // NIO TCP: ServerSocketChannel (default backlog), SocketChannel, the accepted SocketChannel.
        ServerSocketChannel ssc = keep(ServerSocketChannel.open());
        ssc.bind(any);
        m.put("serverSocketChannel", of(ssc));
        SocketChannel sc = keep(SocketChannel.open(ssc.getLocalAddress()));
        m.put("socketChannel", of(sc));
        SocketChannel acc = keep(ssc.accept());
        m.put("acceptedSocketChannel", of(acc));

        if (inet4) {
            // NIO with an explicit protocol family (JDK 15+): AF_INET even on a dual-stack JDK.
            ServerSocketChannel ssc4 = keep(ServerSocketChannel.open(StandardProtocolFamily.INET));
            ssc4.bind(any);
            m.put("serverSocketChannelInet", of(ssc4));
            SocketChannel sc4 = keep(SocketChannel.open(StandardProtocolFamily.INET));
            sc4.connect(ssc4.getLocalAddress());
            m.put("socketChannelInet", of(sc4));
            SocketChannel acc4 = keep(ssc4.accept());
            m.put("acceptedSocketChannelInet", of(acc4));
        }

        // Asynchronous channels (default group): the listener, a client of it, the accepted channel.
        AsynchronousServerSocketChannel assc = keep(AsynchronousServerSocketChannel.open());
        assc.bind(any);
        m.put("asyncServerSocketChannel", of(assc));
        java.util.concurrent.Future<AsynchronousSocketChannel> pending = assc.accept();
        AsynchronousSocketChannel asc = keep(AsynchronousSocketChannel.open());
        asc.connect(assc.getLocalAddress()).get();
        m.put("asyncSocketChannel", of(asc));
        AsynchronousSocketChannel aacc = keep(pending.get());
        m.put("acceptedAsyncSocketChannel", of(aacc));

        // UDP.
        DatagramSocket ds = keep(new DatagramSocket(any));
        m.put("datagramSocket", of(ds));
        MulticastSocket ms = keep(new MulticastSocket(any));
        m.put("multicastSocket", of(ms));
        DatagramChannel dc = keep(DatagramChannel.open());
        dc.bind(any);
        m.put("datagramChannel", of(dc));
        DatagramChannel dcf = keep(DatagramChannel.open(inet4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6));
        dcf.bind(any);
        m.put(inet4 ? "datagramChannelInet" : "datagramChannelInet6", of(dcf));
        return m;
    }

    private static String json(Map<String, Entry> m) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, Entry> e : m.entrySet()) {
            if (b.length() > 1) b.append(',');
            b.append(str(e.getKey())).append(':').append(e.getValue().json());
        }
        return b.append('}').toString();
    }

    public static void main(String[] args) throws Exception {
        boolean v4only = Boolean.getBoolean("java.net.preferIPv4Stack");
        StringBuilder sockets = new StringBuilder("{\"ipv4\":").append(json(probe(InetAddress.getByName("127.0.0.1"), true)));
        String ipv6Error = null;
        if (!v4only) {
            try {
                sockets.append(",\"ipv6\":").append(json(probe(InetAddress.getByName("::1"), false)));
            } catch (IOException e) {
                ipv6Error = e.toString(); // no IPv6 on this host: the ipv4 half still stands
            }
        }
        sockets.append('}');
        Runtime.Version v = Runtime.version();
        String line = "READY {\"pid\":" + ProcessHandle.current().pid()
                + ",\"java\":{\"version\":" + str(System.getProperty("java.version"))
                + ",\"feature\":" + v.feature()
                + ",\"vendor\":" + str(System.getProperty("java.vendor"))
                + ",\"home\":" + str(System.getProperty("java.home")) + "}"
                + ",\"preferIPv4Stack\":" + v4only
                + (ipv6Error == null ? "" : ",\"ipv6Error\":" + str(ipv6Error))
                + ",\"sockets\":" + sockets + "}";
        System.out.println(line);
        System.out.flush();
        InputStream in = System.in;
        while (in.read() >= 0) { /* wait for stdin to close */ }
        for (AutoCloseable c : KEEP) c.close();
    }
}
