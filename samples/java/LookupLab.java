// Test program for test/sockdiag.test.ts (exact sock_diag lookups): opens every socket kind
// a lookup must find, v4 and v6, and closes one on request.
import java.io.*;
import java.net.*;
import java.nio.channels.*;
import java.util.*;

/** Every kind of TCP/UDP socket an exact sock_diag lookup must find. stdin: "close <name>" closes one, answers "CLOSED <name>". */
public class LookupLab {
    static final Map<String, Closeable> byName = new LinkedHashMap<>();
    static final Map<String, Integer> ports = new LinkedHashMap<>();
    static int port(NetworkChannel c) throws IOException { SocketAddress a = c.getLocalAddress(); return a == null ? 0 : ((InetSocketAddress) a).getPort(); }
    static <T extends NetworkChannel> T keep(String name, T c) { byName.put(name, c); return c; }

    public static void main(String[] args) throws Exception {
        InetAddress lo4 = InetAddress.getByName(args[0]);
        InetAddress lo6 = InetAddress.getByName("::1");
        for (String fam : new String[] {"4", "6"}) {
            InetAddress lo = fam.equals("4") ? lo4 : lo6;
            StandardProtocolFamily pf = fam.equals("4") ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
            ServerSocketChannel l = keep("listen" + fam, ServerSocketChannel.open(pf));
            l.bind(new InetSocketAddress(lo, 0), 21);
            keep("client" + fam, SocketChannel.open(pf)).connect(l.getLocalAddress());
            keep("accepted" + fam, l.accept());
            DatagramChannel u = keep("udp" + fam, DatagramChannel.open(pf));
            u.bind(new InetSocketAddress(lo, 0));
            DatagramChannel uc = keep("udpConnected" + fam, DatagramChannel.open(pf));
            uc.bind(new InetSocketAddress(lo, 0));
            uc.connect(u.getLocalAddress());
            ServerSocketChannel r0 = keep("reuse" + fam + "a", ServerSocketChannel.open(pf));
            r0.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            r0.bind(new InetSocketAddress(lo, 0));
            DatagramChannel d0 = keep("udpReuse" + fam + "a", DatagramChannel.open(pf));
            d0.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            d0.bind(new InetSocketAddress(lo, 0));
            for (String s : new String[] {"b", "c"}) {
                ServerSocketChannel r = keep("reuse" + fam + s, ServerSocketChannel.open(pf));
                r.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                r.bind(r0.getLocalAddress());
                DatagramChannel d = keep("udpReuse" + fam + s, DatagramChannel.open(pf));
                d.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                d.bind(d0.getLocalAddress());
            }
            keep("boundOnly" + fam, SocketChannel.open(pf)).bind(new InetSocketAddress(lo, 0));
        }
        // java.net sockets on a dual-stack JDK are AF_INET6: v4-mapped addresses.
        ServerSocket ms = new ServerSocket(0, 50, lo4);
        Socket mc = new Socket();
        mc.connect(ms.getLocalSocketAddress());
        Socket ma = ms.accept();
        byName.put("mappedListen", ms); byName.put("mappedClient", mc); byName.put("mappedAccepted", ma);
        ports.put("mappedListen", ms.getLocalPort()); ports.put("mappedClient", mc.getLocalPort()); ports.put("mappedAccepted", ma.getLocalPort());
        // DatagramChannel.open() is AF_INET6 too: bound to an IPv4 address, v4-mapped.
        DatagramChannel um = keep("udpMapped", DatagramChannel.open());
        um.bind(new InetSocketAddress(lo4, 0));
        DatagramChannel umc = keep("udpMappedConnected", DatagramChannel.open());
        umc.bind(new InetSocketAddress(lo4, 0));
        umc.connect(um.getLocalAddress());
        // A dual-stack wildcard listener, an IPv4 client of it, the (v4-mapped) accepted socket.
        ServerSocketChannel w = keep("wildcard", ServerSocketChannel.open());
        w.bind(new InetSocketAddress(0), 5);
        keep("wildcardClient", SocketChannel.open(StandardProtocolFamily.INET)).connect(new InetSocketAddress(lo4, port(w)));
        keep("wildcardAccepted", w.accept());
        keep("unbound", SocketChannel.open(StandardProtocolFamily.INET));
        for (var e : byName.entrySet()) if (e.getValue() instanceof NetworkChannel) ports.put(e.getKey(), port((NetworkChannel) e.getValue()));

        StringBuilder json = new StringBuilder("{\"pid\":").append(ProcessHandle.current().pid()).append(",\"ports\":{");
        boolean first = true;
        for (var e : ports.entrySet()) {
            json.append(first ? "" : ",").append('"').append(e.getKey()).append("\":").append(e.getValue());
            first = false;
        }
        System.out.println("READY " + json.append("}}"));
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 2 && p[0].equals("close")) {
                byName.remove(p[1]).close();
                System.out.println("CLOSED " + p[1]);
                System.out.flush();
            }
        }
    }
}
