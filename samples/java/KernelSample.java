// Sockets with known options for the knetstat kernel-module test
// (test/kernel/). Real AF_INET sockets come from NIO channels opened with
// StandardProtocolFamily.INET, AF_INET6 ones with INET6; plain java.net
// sockets would all be AF_INET6 on a dual-stack host.
//
// Prints one line: READY {"pid":..., ports...} and then waits until stdin
// closes or it is killed. A "diag" pair is included: the writer writes
// until the peer's window is closed, the reader never reads.
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import jdk.net.ExtendedSocketOptions;

public class KernelSample {
    private static final List<Object> KEEP = new ArrayList<>();

    private static int port(java.nio.channels.NetworkChannel ch) throws IOException {
        return ((InetSocketAddress) ch.getLocalAddress()).getPort();
    }

    public static void main(String[] args) throws Exception {
        InetAddress lo4 = InetAddress.getByName("127.0.0.1");
        InetAddress lo6 = InetAddress.getByName("::1");

        // TCP v4 listener: reuseaddr, reuseport, receive buffer (inherited by accepted sockets).
        ServerSocketChannel l4 = ServerSocketChannel.open(StandardProtocolFamily.INET);
        l4.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        l4.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        l4.setOption(StandardSocketOptions.SO_RCVBUF, 65536);
        l4.bind(new InetSocketAddress(lo4, 0), 50);

        // TCP v4 client: keepalive with its timers, nodelay, linger 7 s.
        SocketChannel c4 = SocketChannel.open(StandardProtocolFamily.INET);
        c4.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        c4.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, 30);
        c4.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, 5);
        c4.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, 4);
        c4.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c4.socket().setSoLinger(true, 7);
        c4.connect(new InetSocketAddress(lo4, port(l4)));
        SocketChannel a4 = l4.accept();
        a4.setOption(StandardSocketOptions.SO_SNDBUF, 32768);

        // TCP v6 listener, client and accepted socket.
        ServerSocketChannel l6 = ServerSocketChannel.open(StandardProtocolFamily.INET6);
        l6.bind(new InetSocketAddress(lo6, 0), 50);
        SocketChannel c6 = SocketChannel.open(StandardProtocolFamily.INET6);
        c6.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c6.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        c6.connect(new InetSocketAddress(lo6, port(l6)));
        SocketChannel a6 = l6.accept();
        a6.socket().setSoLinger(true, 3);

        // UDP v4: broadcast, receive buffer, reuseaddr.
        DatagramChannel u4 = DatagramChannel.open(StandardProtocolFamily.INET);
        u4.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        u4.setOption(StandardSocketOptions.SO_BROADCAST, true);
        u4.setOption(StandardSocketOptions.SO_RCVBUF, 65536);
        u4.bind(new InetSocketAddress(lo4, 0));

        // UDP v6: send buffer, connected to itself.
        DatagramChannel u6 = DatagramChannel.open(StandardProtocolFamily.INET6);
        u6.setOption(StandardSocketOptions.SO_SNDBUF, 32768);
        u6.bind(new InetSocketAddress(lo6, 0));
        u6.connect(new InetSocketAddress(lo6, port(u6)));

        // A classic java.net.ServerSocket: on a dual-stack host it is an
        // AF_INET6 socket, listed in tcp6stat with a v4-mapped address.
        java.net.ServerSocket m6 = new java.net.ServerSocket(0, 50, lo4);

        // Diag pair: the reader (accepted side) never reads; its small
        // receive buffer fills and it advertises a zero window, so the
        // writer sees a zero send window.
        ServerSocketChannel ld = ServerSocketChannel.open(StandardProtocolFamily.INET);
        ld.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
        ld.bind(new InetSocketAddress(lo4, 0), 5);
        SocketChannel w = SocketChannel.open(StandardProtocolFamily.INET);
        w.connect(new InetSocketAddress(lo4, port(ld)));
        SocketChannel r = ld.accept();
        Thread writer = new Thread(() -> {
            ByteBuffer buf = ByteBuffer.allocate(16384);
            try {
                while (true) {
                    buf.clear();
                    w.write(buf);
                }
            } catch (IOException e) {
                // closed at exit
            }
        }, "diag-writer");
        writer.setDaemon(true);
        writer.start();

        KEEP.add(new Object[] {l4, c4, a4, l6, c6, a6, u4, u6, m6, ld, w, r});

        System.out.println("READY {\"pid\":" + ProcessHandle.current().pid()
                + ",\"l4\":" + port(l4) + ",\"c4\":" + port(c4)
                + ",\"l6\":" + port(l6) + ",\"c6\":" + port(c6)
                + ",\"u4\":" + port(u4) + ",\"u6\":" + port(u6)
                + ",\"m6\":" + m6.getLocalPort()
                + ",\"ld\":" + port(ld) + ",\"w\":" + port(w) + "}");
        System.out.flush();
        while (System.in.read() >= 0) {
            // wait for stdin to close
        }
    }
}
