import java.io.*;
import java.lang.reflect.Field;
import java.net.*;
import java.nio.channels.*;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;
import jdk.net.ExtendedSocketOptions;

/**
 * Opens and closes loopback sockets as fast as it can, for the scale tests
 * (test/scale.test.ts): client threads connect to its own listener and close,
 * an acceptor accepts and closes, UDP threads bind and close. Every socket
 * carries an option derived from its own port (TCP: TCP_KEEPIDLE = local port
 * of the client - 30000 on both ends; UDP: IP_TOS = (port % 64) << 2), and its
 * fd number, port (for accepted sockets: the peer port) and inode are logged, so a report can be checked for options, ports
 * and fd numbers that belong together. Loopback only; bounded in time.
 *
 *   java --add-opens java.base/sun.nio.ch=ALL-UNNAMED Churn <log file> [clientThreads] [udpThreads] [seconds] [opens/s] [hold]
 *
 * hold (default 100): each thread (and the acceptor) keeps its last <hold> sockets
 * open and closes the oldest as it opens the next, so a report finds hundreds of
 * live sockets whose fd numbers are reused all the time.
 *
 * opens/s (default 4000) paces all threads together, so the churn does not take
 * every core of a shared machine.
 *
 * Prints "READY {json}" once running, "DONE {json}" when it stops (after
 * <seconds>, or when stdin closes), and exits after flushing the log.
 */
public class Churn {
    static volatile boolean stop;
    static final AtomicLong opened = new AtomicLong();
    static PrintWriter log;

    static void keep(ArrayDeque<Closeable> ring, Closeable c, int hold) throws IOException {
        ring.add(c);
        if (ring.size() > hold) ring.poll().close();
    }

    static void closeAll(ArrayDeque<Closeable> ring) {
        for (Closeable c : ring) try { c.close(); } catch (IOException e) { /* exiting */ }
    }

    /** Sleep until this thread's next slot: each thread opens one socket per gap. */
    static long pace(long next, long gap) {
        long now = System.nanoTime();
        if (next > now) java.util.concurrent.locks.LockSupport.parkNanos(next - now);
        return Math.max(next, now - gap) + gap;
    }

    static int fdOf(Object ch) {
        for (Class<?> c = ch.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField("fdVal");
                f.setAccessible(true);
                return f.getInt(ch);
            } catch (NoSuchFieldException e) { /* up */ } catch (IllegalAccessException e) { return -1; }
        }
        return -1;
    }

    /** "kind fd port inode": the inode from /proc/self/fd, as the JVM itself sees it right after setting the socket up. */
    static void record(String kind, Object ch, int port) {
        int fd = fdOf(ch);
        String inode = "?";
        try {
            String link = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd)).toString();
            if (link.startsWith("socket:[")) inode = link.substring(8, link.length() - 1);
        } catch (IOException e) { /* closed meanwhile */ }
        synchronized (Churn.class) { log.println(kind + " " + fd + " " + port + " " + inode); }
    }

    public static void main(String[] args) throws Exception {
        log = new PrintWriter(new BufferedWriter(new FileWriter(args[0]), 1 << 16));
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int udps = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        long seconds = args.length > 3 ? Long.parseLong(args[3]) : 60;
        int rate = args.length > 4 ? Integer.parseInt(args[4]) : 4000;
        int hold = args.length > 5 ? Integer.parseInt(args[5]) : 100;
        long gapNanos = 1_000_000_000L * (clients + udps) / Math.max(1, rate); // per thread
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(lo, 0), 4096);
        InetSocketAddress to = (InetSocketAddress) server.getLocalAddress();
        Thread acceptor = new Thread(() -> {
            ArrayDeque<Closeable> ring = new ArrayDeque<>();
            while (!stop) {
                try {
                    SocketChannel a = server.accept();
                    keep(ring, a, hold);
                    int peer = ((InetSocketAddress) a.getRemoteAddress()).getPort();
                    a.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, peer - 30000);
                    record("accepted", a, peer);
                    opened.incrementAndGet();
                } catch (IOException e) { if (stop) break; }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        Thread[] ts = new Thread[clients + udps];
        for (int i = 0; i < clients; i++) {
            ts[i] = new Thread(() -> {
                long next = System.nanoTime();
                ArrayDeque<Closeable> ring = new ArrayDeque<>();
                while (!stop) {
                    next = pace(next, gapNanos);
                    try {
                        SocketChannel c = SocketChannel.open();
                        keep(ring, c, hold);
                        c.connect(to);
                        int port = ((InetSocketAddress) c.getLocalAddress()).getPort();
                        c.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, port - 30000);
                        record("client", c, port);
                        opened.incrementAndGet();
                    } catch (IOException e) { /* port exhaustion under churn: try again */ }
                }
                closeAll(ring);
            });
        }
        for (int i = clients; i < clients + udps; i++) {
            ts[i] = new Thread(() -> {
                long next = System.nanoTime();
                ArrayDeque<Closeable> ring = new ArrayDeque<>();
                while (!stop) {
                    next = pace(next, gapNanos);
                    try {
                        DatagramChannel d = DatagramChannel.open(StandardProtocolFamily.INET);
                        keep(ring, d, hold);
                        d.bind(new InetSocketAddress(lo, 0));
                        int port = ((InetSocketAddress) d.getLocalAddress()).getPort();
                        d.setOption(StandardSocketOptions.IP_TOS, (port % 64) << 2);
                        record("udp", d, port);
                        opened.incrementAndGet();
                    } catch (IOException e) { /* again */ }
                }
                closeAll(ring);
            });
        }
        for (Thread t : ts) t.start();
        System.out.println("READY {\"pid\":" + ProcessHandle.current().pid() + ",\"port\":" + to.getPort() + "}");
        System.out.flush();
        long t0 = System.nanoTime();
        Thread stdin = new Thread(() -> { try { while (System.in.read() >= 0) { } } catch (IOException e) { } stop = true; });
        stdin.setDaemon(true);
        stdin.start();
        while (!stop && System.nanoTime() - t0 < seconds * 1_000_000_000L) Thread.sleep(50);
        stop = true;
        server.close();
        for (Thread t : ts) t.join(5000);
        double secs = (System.nanoTime() - t0) / 1e9;
        synchronized (Churn.class) { log.flush(); log.close(); }
        System.out.println("DONE {\"opened\":" + opened.get() + ",\"seconds\":" + secs + "}");
        System.out.flush();
        System.exit(0);
    }
}
