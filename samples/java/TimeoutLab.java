import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sockets whose read timeouts are known, for checking what --observe reports.
 * Everything binds to 127.0.0.1.
 *
 *   java TimeoutLab [seed=N] [groups=G] [perGroup=K] [periodic=MS]
 *
 * - G groups ("g0".."g{G-1}"), each a ServerSocket and K client Sockets connected
 *   to it: a pool to one peer. Every client of group g has setSoTimeout(T_g), a
 *   random value of its own; the last group's clients alternate between two
 *   values (a group with a set of timeouts); group "inf" has K clients with
 *   setSoTimeout(0) (infinite).
 * - Every accepted socket of those servers has its own random setSoTimeout.
 * - "nio": a blocking SocketChannel client (channel reads carry no timeout) of a
 *   ServerSocketChannel whose accepted channels are read by a Selector
 *   (non-blocking: selector code never blocks in read).
 * - "adaptor": SocketChannel.socket() with setSoTimeout, read through its stream.
 * - "idle": a client Socket with setSoTimeout that never reads.
 *
 * Traffic is ping-pong: a client writes 1 byte, its peer reads it and answers 16
 * bytes, the client reads until it has 16. Each side counts its read and write
 * calls and bytes. stdin commands:
 *   burst N   every pinging client does N ping-pongs; then prints
 *             DONE {"sockets":[{"id","localPort","remotePort","reads","bytesRead","writes","bytesWritten",
 *                   "readsBefore","bytesBefore"}]}
 *             (counts since the previous burst; readsBefore/bytesBefore: of those reads, the ones
 *             that were already waiting when the burst command arrived, e.g. an accepted socket's
 *             read of the next ping: JFR decides at the start of a read whether to record it)
 * With periodic=MS every pinging client also pings every MS ms (for demos).
 *
 * READY {"pid":..,"sockets":[{"id","role","api","group","localPort","remotePort","soTimeout"}]}
 * soTimeout is what the sample set (ms, 0 = infinite), null where a read cannot
 * carry one (channel and selector reads).
 */
public class TimeoutLab {
    static final int REPLY = 16;
    static final Random RND = new Random();
    static final Set<Integer> USED = new LinkedHashSet<>();
    /**
     * Every local port of the lab's clients: JFR names a read's peer (address, port), not its local end,
     * so two clients of different servers on one local port number (the kernel allows it: their
     * destinations differ) would make their two accepted sockets one peer-group to --observe. A client
     * that lands on a port taken is dropped with its accepted socket and made again.
     */
    static final Set<Integer> CLIENT_PORTS = new LinkedHashSet<>();
    static final List<Conn> CONNS = new ArrayList<>();
    /** Bumped when a burst command arrives: a read that saw an older value was already waiting then. */
    static volatile long burstMark;

    /** A distinct random timeout in [lo, hi) ms. */
    static int timeout(int lo, int hi) {
        while (true) {
            int t = lo + RND.nextInt(hi - lo);
            if (USED.add(t)) return t;
        }
    }

    /** One socket's counters and identity. */
    static final class Conn {
        final String id, role, api, group;
        final Integer soTimeout;
        int localPort, remotePort;
        final AtomicLong reads = new AtomicLong(), bytesRead = new AtomicLong(), writes = new AtomicLong(), bytesWritten = new AtomicLong();
        final AtomicLong readsBefore = new AtomicLong(), bytesBefore = new AtomicLong();
        Socket socket;
        SocketChannel channel;
        InputStream in;
        OutputStream out;

        Conn(String id, String role, String api, String group, Integer soTimeout) {
            this.id = id; this.role = role; this.api = api; this.group = group; this.soTimeout = soTimeout;
            synchronized (CONNS) { CONNS.add(this); }
        }

        void ports(java.net.SocketAddress local, java.net.SocketAddress remote) {
            localPort = ((InetSocketAddress) local).getPort();
            remotePort = ((InetSocketAddress) remote).getPort();
        }

        int read(byte[] b, int off, int len) throws IOException {
            long mark = burstMark;
            int n = in.read(b, off, len);
            counted(n, mark);
            return n;
        }

        int read(ByteBuffer bb) throws IOException {
            long mark = burstMark;
            int n = channel.read(bb);
            counted(n, mark);
            return n;
        }

        /** A read that began before the current burst's command arrived also counts as "before". */
        private void counted(int n, long markAtStart) {
            reads.incrementAndGet();
            if (n > 0) bytesRead.addAndGet(n);
            if (markAtStart != burstMark) {
                readsBefore.incrementAndGet();
                if (n > 0) bytesBefore.addAndGet(n);
            }
        }

        void write(byte[] b) throws IOException {
            if (out != null) {
                out.write(b);
                out.flush();
            } else {
                ByteBuffer bb = ByteBuffer.wrap(b);
                while (bb.hasRemaining()) {
                    channel.write(bb);
                    writes.incrementAndGet();
                }
                bytesWritten.addAndGet(b.length);
                return;
            }
            writes.incrementAndGet();
            bytesWritten.addAndGet(b.length);
        }

        /** One ping-pong from the client side. */
        void ping() throws IOException {
            write(new byte[] {'p'});
            int got = 0;
            if (channel != null && in == null) {
                ByteBuffer bb = ByteBuffer.allocate(REPLY);
                while (got < REPLY) {
                    int n = read(bb);
                    if (n < 0) throw new IOException("eof");
                    got += n;
                }
            } else {
                byte[] b = new byte[REPLY];
                while (got < REPLY) {
                    int n = read(b, got, REPLY - got);
                    if (n < 0) throw new IOException("eof");
                    got += n;
                }
            }
        }

        String counts() {
            return String.format("{\"id\":\"%s\",\"localPort\":%d,\"remotePort\":%d,\"reads\":%d,\"bytesRead\":%d,\"writes\":%d,\"bytesWritten\":%d,\"readsBefore\":%d,\"bytesBefore\":%d}",
                    id, localPort, remotePort, reads.getAndSet(0), bytesRead.getAndSet(0), writes.getAndSet(0), bytesWritten.getAndSet(0),
                    readsBefore.getAndSet(0), bytesBefore.getAndSet(0));
        }

        String ready() {
            return String.format("{\"id\":\"%s\",\"role\":\"%s\",\"api\":\"%s\",\"group\":%s,\"localPort\":%d,\"remotePort\":%d,\"soTimeout\":%s}",
                    id, role, api, group == null ? "null" : "\"" + group + "\"", localPort, remotePort, soTimeout == null ? "null" : soTimeout.toString());
        }
    }

    static Thread daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Accepted side of a classic server: read 1 byte, answer REPLY bytes, until EOF. */
    static void serveAccepted(Conn c) {
        byte[] b = new byte[1];
        try {
            while (c.read(b, 0, 1) > 0) c.write(new byte[REPLY]);
        } catch (IOException e) {
            // peer gone
        }
    }

    static final List<Conn> PINGERS = new ArrayList<>();

    static void group(String name, int count, int[] clientTimeouts, InetAddress lo) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, lo);
        for (int i = 0; i < count; i++) {
            int t = clientTimeouts[i % clientTimeouts.length];
            Socket s, a;
            while (true) {
                s = new Socket();
                s.connect(new InetSocketAddress(lo, server.getLocalPort()));
                a = server.accept();
                if (CLIENT_PORTS.add(s.getLocalPort())) break;
                s.close();
                a.close();
            }
            Conn client = new Conn(name + ".c" + i, "client", "socket", name, t);
            s.setSoTimeout(t);
            client.socket = s; client.in = s.getInputStream(); client.out = s.getOutputStream();
            client.ports(s.getLocalSocketAddress(), s.getRemoteSocketAddress());
            int at = timeout(60_000, 600_000);
            a.setSoTimeout(at);
            Conn acc = new Conn(name + ".a" + i, "accepted", "socket", name, at);
            acc.socket = a; acc.in = a.getInputStream(); acc.out = a.getOutputStream();
            acc.ports(a.getLocalSocketAddress(), a.getRemoteSocketAddress());
            daemon(() -> serveAccepted(acc));
            PINGERS.add(client);
        }
    }

    /** Selector side of the NIO pair: non-blocking reads of 1-byte pings, REPLY-byte answers. */
    static void selectorLoop(Selector sel, Conn acc) {
        ByteBuffer in = ByteBuffer.allocate(64);
        try {
            while (true) {
                sel.select();
                Iterator<SelectionKey> it = sel.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey k = it.next();
                    it.remove();
                    if (!k.isReadable()) continue;
                    in.clear();
                    int n = acc.read(in);
                    if (n < 0) return;
                    for (int i = 0; i < n; i++) acc.write(new byte[REPLY]);
                }
            }
        } catch (IOException e) {
            // closed
        }
    }

    public static void main(String[] args) throws Exception {
        int groups = 3, perGroup = 4, periodic = 0;
        long seed = System.nanoTime();
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "seed": seed = Long.parseLong(kv[1]); break;
                case "groups": groups = Integer.parseInt(kv[1]); break;
                case "perGroup": perGroup = Integer.parseInt(kv[1]); break;
                case "periodic": periodic = Integer.parseInt(kv[1]); break;
                default: throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        RND.setSeed(seed);
        InetAddress lo = InetAddress.getByName("127.0.0.1");

        for (int g = 0; g < groups; g++) {
            int[] ts = g == groups - 1 && groups > 1 ? new int[] {timeout(1000, 120_000), timeout(1000, 120_000)} : new int[] {timeout(1000, 120_000)};
            group("g" + g, perGroup, ts, lo);
        }
        group("inf", 2, new int[] {0}, lo);

        // NIO: blocking channel client, selector-driven accepted channel.
        ServerSocketChannel ssc = ServerSocketChannel.open();
        ssc.bind(new InetSocketAddress(lo, 0));
        SocketChannel nc, na;
        while (true) {
            nc = SocketChannel.open(ssc.getLocalAddress());
            na = ssc.accept();
            if (CLIENT_PORTS.add(((InetSocketAddress) nc.getLocalAddress()).getPort())) break;
            nc.close();
            na.close();
        }
        Conn nioClient = new Conn("nio.c", "client", "channel", null, null);
        nioClient.channel = nc;
        nioClient.ports(nioClient.channel.getLocalAddress(), nioClient.channel.getRemoteAddress());
        Conn nioAcc = new Conn("nio.a", "accepted", "selector", null, null);
        nioAcc.channel = na;
        nioAcc.channel.configureBlocking(false);
        nioAcc.ports(nioAcc.channel.getLocalAddress(), nioAcc.channel.getRemoteAddress());
        Selector sel = Selector.open();
        nioAcc.channel.register(sel, SelectionKey.OP_READ);
        daemon(() -> selectorLoop(sel, nioAcc));
        PINGERS.add(nioClient);

        // Socket adaptor of a SocketChannel, read through its InputStream with a timeout.
        ServerSocket as = new ServerSocket(0, 50, lo);
        SocketChannel ach;
        Socket aa;
        while (true) {
            ach = SocketChannel.open(new InetSocketAddress(lo, as.getLocalPort()));
            aa = as.accept();
            if (CLIENT_PORTS.add(((InetSocketAddress) ach.getLocalAddress()).getPort())) break;
            ach.close();
            aa.close();
        }
        int adaptorTimeout = timeout(1000, 120_000);
        ach.socket().setSoTimeout(adaptorTimeout);
        Conn adaptor = new Conn("adaptor.c", "client", "adaptor", null, adaptorTimeout);
        adaptor.socket = ach.socket(); adaptor.in = ach.socket().getInputStream(); adaptor.out = ach.socket().getOutputStream();
        adaptor.ports(ach.getLocalAddress(), ach.getRemoteAddress());
        int aat = timeout(60_000, 600_000);
        aa.setSoTimeout(aat);
        Conn adaptorAcc = new Conn("adaptor.a", "accepted", "socket", null, aat);
        adaptorAcc.socket = aa; adaptorAcc.in = aa.getInputStream(); adaptorAcc.out = aa.getOutputStream();
        adaptorAcc.ports(aa.getLocalSocketAddress(), aa.getRemoteSocketAddress());
        daemon(() -> serveAccepted(adaptorAcc));
        PINGERS.add(adaptor);

        // A client that never reads.
        ServerSocket is = new ServerSocket(0, 50, lo);
        Socket idle, idleAcc;
        while (true) {
            idle = new Socket(lo, is.getLocalPort());
            idleAcc = is.accept();
            if (CLIENT_PORTS.add(idle.getLocalPort())) break;
            idle.close();
            idleAcc.close();
        }
        int idleTimeout = timeout(1000, 120_000);
        idle.setSoTimeout(idleTimeout);
        Conn idleConn = new Conn("idle.c", "client", "socket", null, idleTimeout);
        idleConn.ports(idle.getLocalSocketAddress(), idle.getRemoteSocketAddress());

        StringBuilder b = new StringBuilder("{\"pid\":").append(ProcessHandle.current().pid()).append(",\"seed\":").append(seed).append(",\"sockets\":[");
        synchronized (CONNS) {
            for (int i = 0; i < CONNS.size(); i++) b.append(i > 0 ? "," : "").append(CONNS.get(i).ready());
        }
        System.out.println("READY " + b.append("]}"));
        System.out.flush();

        if (periodic > 0) {
            final int every = periodic;
            for (Conn c : PINGERS) {
                daemon(() -> {
                    try {
                        while (true) {
                            synchronized (c) { c.ping(); }
                            Thread.sleep(every);
                        }
                    } catch (Exception e) {
                        // closed
                    }
                });
            }
        }

        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = stdin.readLine()) != null) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 2 && p[0].equals("burst")) {
                int n = Integer.parseInt(p[1]);
                burstMark++;
                CountDownLatch done = new CountDownLatch(PINGERS.size());
                for (Conn c : PINGERS) {
                    daemon(() -> {
                        try {
                            for (int i = 0; i < n; i++) synchronized (c) { c.ping(); }
                        } catch (IOException e) {
                            System.err.println("TimeoutLab: " + c.id + ": " + e);
                        } finally {
                            done.countDown();
                        }
                    });
                }
                done.await();
                Thread.sleep(200); // the peers' last reads and answers complete
                StringBuilder d = new StringBuilder("{\"sockets\":[");
                synchronized (CONNS) {
                    for (int i = 0; i < CONNS.size(); i++) d.append(i > 0 ? "," : "").append(CONNS.get(i).counts());
                }
                System.out.println("DONE " + d.append("]}"));
                System.out.flush();
            }
        }
        idle.close();
        idleAcc.close();
    }
}
