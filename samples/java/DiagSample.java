import java.io.InputStream;
import java.io.OutputStream;
import java.net.*;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Sockets whose state sock_diag can see (for the sockdiag source tests):
 * a listener with backlog 77 and a set receive buffer, a client connection
 * with keepalive (1 s idle, so its keepalive timer runs), IP_TOS 0x10 and a
 * set send buffer, 3000 bytes left unread on the accepted side, a UDP socket
 * with IP_MULTICAST_LOOP off and 2 unread datagrams, and an IPv6 listener.
 * Prints READY {json} and holds them until stdin closes.
 */
public class DiagSample {
    public static void main(String[] args) throws Exception {
        boolean v4 = args.length > 0 && args[0].equals("v4");
        String host = args.length > 1 ? args[1] : "127.0.0.1";
        ServerSocketChannel ls = ServerSocketChannel.open(StandardProtocolFamily.INET);
        ls.setOption(StandardSocketOptions.SO_RCVBUF, 100000);
        ls.bind(new InetSocketAddress(host, 0), 77);
        int lport = ((InetSocketAddress) ls.getLocalAddress()).getPort();

        SocketChannel c = SocketChannel.open(StandardProtocolFamily.INET);
        c.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        c.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE, 1);
        c.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL, 1);
        c.setOption(StandardSocketOptions.IP_TOS, 0x10);
        c.setOption(StandardSocketOptions.SO_SNDBUF, 65536);
        c.bind(new InetSocketAddress(host, 0));
        c.connect(new InetSocketAddress(host, lport));
        SocketChannel a = ls.accept();
        c.write(java.nio.ByteBuffer.wrap(new byte[3000]));
        int cport = ((InetSocketAddress) c.getLocalAddress()).getPort();

        DatagramChannel u = DatagramChannel.open(StandardProtocolFamily.INET);
        u.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, false);
        u.setOption(StandardSocketOptions.SO_RCVBUF, 50000);
        u.bind(new InetSocketAddress(host, 0));
        int uport = ((InetSocketAddress) u.getLocalAddress()).getPort();
        DatagramChannel s = DatagramChannel.open(StandardProtocolFamily.INET);
        s.bind(new InetSocketAddress(host, 0));
        for (int i = 0; i < 2; i++) s.send(java.nio.ByteBuffer.wrap(new byte[100]), new InetSocketAddress(host, uport));

        StringBuilder json = new StringBuilder();
        json.append("{\"pid\":").append(ProcessHandle.current().pid())
            .append(",\"listen\":").append(lport).append(",\"client\":").append(cport).append(",\"udp\":").append(uport);
        if (!v4) {
            try {
                ServerSocketChannel l6 = ServerSocketChannel.open(StandardProtocolFamily.INET6);
                l6.bind(new InetSocketAddress("::1", 0), 33);
                json.append(",\"listen6\":").append(((InetSocketAddress) l6.getLocalAddress()).getPort());
            } catch (Exception e) { /* no IPv6 */ }
        }
        json.append("}");
        System.out.println("READY " + json);
        System.out.flush();
        InputStream in = System.in;
        while (in.read() >= 0) { }
        System.exit(0);
    }
}
