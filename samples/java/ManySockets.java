import java.net.*;
import java.nio.channels.*;
import java.util.*;

/**
 * Holds N loopback sockets for the scale benchmark (bench/run.js): about a tenth
 * UDP, a tenth TCP listeners, and the rest connected client/accepted TCP pairs.
 * Addresses are spread over 127.0.0.1..127.0.0.<spread> so N = 50,000 (and more)
 * fits in the ephemeral port range. Prints "READY {json}" and holds the sockets
 * until stdin closes or it is killed. Needs ulimit -n above N (run it under
 * prlimit --nofile=200000:200000).
 *
 *   java ManySockets <N> [spread]
 */
public class ManySockets {
    static final List<AutoCloseable> keep = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        int spread = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int udp = Math.max(1, n / 10);
        int listeners = Math.max(1, n / 10);
        int pairs = Math.max(0, (n - udp - listeners) / 2);
        InetAddress[] addrs = new InetAddress[spread];
        for (int i = 0; i < spread; i++) addrs[i] = InetAddress.getByName("127.0.0." + (i + 1));

        ServerSocketChannel[] ls = new ServerSocketChannel[listeners];
        for (int i = 0; i < listeners; i++) {
            ServerSocketChannel s = ServerSocketChannel.open();
            s.bind(new InetSocketAddress(addrs[i % spread], 0), 1024);
            ls[i] = s;
            keep.add(s);
        }
        for (int i = 0; i < pairs; i++) {
            ServerSocketChannel l = ls[i % listeners];
            SocketChannel c = SocketChannel.open();
            if (i % 7 == 0) c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            c.connect(l.getLocalAddress());
            SocketChannel a = l.accept();
            keep.add(c);
            keep.add(a);
        }
        for (int i = 0; i < udp; i++) {
            DatagramChannel d = DatagramChannel.open(StandardProtocolFamily.INET);
            d.bind(new InetSocketAddress(addrs[i % spread], 0));
            keep.add(d);
        }
        System.out.println("READY {\"pid\":" + ProcessHandle.current().pid() + ",\"sockets\":" + keep.size()
            + ",\"listeners\":" + listeners + ",\"pairs\":" + pairs + ",\"udp\":" + udp + "}");
        System.out.flush();
        while (System.in.read() >= 0) { /* hold until stdin closes */ }
        for (AutoCloseable c : keep) try { c.close(); } catch (Exception e) { /* exiting */ }
    }
}
