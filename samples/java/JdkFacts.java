import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.*;
import java.nio.channels.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.TimeUnit;

/**
 * Measures the JDK facts the analysis relies on (issue 13 items 5, 6, 8) on the
 * JDK that runs it, and prints them as one JSON object (mappings/jdk-facts.json
 * records them per JDK; test/jdk-facts.test.ts compares):
 *   supportedOptions: every class's supportedOptions(), sorted;
 *   nonblocking:      whether the fd is O_NONBLOCK (/proc/self/fdinfo flags) after
 *                     each way of using each class;
 *   acceptedReuseAddr: getOption(SO_REUSEADDR) on sockets accepted by each listener kind
 *                     (they inherit the listener's SO_REUSEADDR=1, which the JDK set);
 *   bufferReadBack:   what getOption(SO_RCVBUF) returns after setOption(SO_RCVBUF, 100001)
 *                     (the JDK halves what the kernel reports on Linux);
 *   newThreads:       names of the threads that appear while these sockets are used, digits
 *                     as N (the asynchronous channels' default group runs its own pool;
 *                     /proc/<pid>/task/<tid>/comm shows the first 15 bytes).
 * Run with --add-opens java.base/java.io=ALL-UNNAMED --add-opens java.base/java.net=ALL-UNNAMED
 * --add-opens java.base/sun.nio.ch=ALL-UNNAMED (fds by reflection, as TruthLab).
 */
public class JdkFacts {
    static final InetSocketAddress LO = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    static int fdOf(Object root) throws Exception {
        ArrayDeque<Object> q = new ArrayDeque<>(List.of(root));
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        while (!q.isEmpty()) {
            Object o = q.poll();
            if (!seen.add(o)) continue;
            for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) continue;
                    f.setAccessible(true);
                    Object v = f.get(o);
                    if (v instanceof java.io.FileDescriptor) {
                        Field fd = java.io.FileDescriptor.class.getDeclaredField("fd");
                        fd.setAccessible(true);
                        if (fd.getInt(v) >= 0) return fd.getInt(v);
                    } else if (v != null && (v.getClass().getName().startsWith("java.net.") || v.getClass().getName().startsWith("sun.nio.ch."))) q.add(v);
                }
            }
        }
        return -1;
    }

    static boolean nonblocking(Object o) throws Exception {
        String info = Files.readString(Path.of("/proc/self/fdinfo/" + fdOf(o)));
        int flags = Integer.parseInt(info.split("flags:")[1].trim().split("\\s+")[0], 8);
        return (flags & 04000) != 0;
    }

    static String names(Set<SocketOption<?>> s) {
        List<String> l = new ArrayList<>();
        for (SocketOption<?> o : s) l.add("\"" + o.name() + "\"");
        Collections.sort(l);
        return "[" + String.join(",", l) + "]";
    }

    static final Map<String, String> nb = new LinkedHashMap<>();

    static void nb(String what, Object o) throws Exception {
        nb.put(what, String.valueOf(nonblocking(o)));
    }

    public static void main(String[] args) throws Exception {
        Set<String> before = threadNames();
        Map<String, String> sup = new LinkedHashMap<>();
        sup.put("java.net.Socket", names(new Socket().supportedOptions()));
        sup.put("java.net.ServerSocket", names(new ServerSocket().supportedOptions()));
        sup.put("java.net.DatagramSocket", names(new DatagramSocket(null).supportedOptions()));
        sup.put("java.net.MulticastSocket", names(new MulticastSocket(null).supportedOptions()));
        sup.put("java.nio.channels.SocketChannel", names(SocketChannel.open().supportedOptions()));
        sup.put("java.nio.channels.ServerSocketChannel", names(ServerSocketChannel.open().supportedOptions()));
        sup.put("java.nio.channels.DatagramChannel", names(DatagramChannel.open().supportedOptions()));
        sup.put("java.nio.channels.AsynchronousSocketChannel", names(AsynchronousSocketChannel.open().supportedOptions()));
        sup.put("java.nio.channels.AsynchronousServerSocketChannel", names(AsynchronousServerSocketChannel.open().supportedOptions()));

        // java.net.Socket: plain connect, timed connect, timed read.
        ServerSocket ss = new ServerSocket();
        ss.bind(LO);
        nb("ServerSocket bound", ss);
        Socket plain = new Socket();
        plain.connect(ss.getLocalSocketAddress());
        nb("Socket connect(addr)", plain);
        Socket acc = ss.accept();
        nb("Socket accepted by ServerSocket.accept()", acc);
        acc.setSoTimeout(50);
        try { acc.getInputStream().read(); } catch (SocketTimeoutException e) { /* expected */ }
        nb("Socket accepted, after a timed read (setSoTimeout(50) then read)", acc);
        Socket timed = new Socket();
        timed.connect(ss.getLocalSocketAddress(), 5000);
        nb("Socket connect(addr, 5000)", timed);
        Socket timedAcc = ss.accept();
        ss.setSoTimeout(50);
        try { ss.accept(); } catch (SocketTimeoutException e) { /* expected */ }
        nb("ServerSocket after a timed accept (setSoTimeout(50) then accept)", ss);
        Socket reader = new Socket();
        reader.connect(ss.getLocalSocketAddress());
        Socket readerAcc = null;
        try { readerAcc = ss.accept(); } catch (SocketTimeoutException e) { /* none */ }
        reader.setSoTimeout(50);
        try { reader.getInputStream().read(); } catch (SocketTimeoutException e) { /* expected */ }
        nb("Socket connect(addr), after a timed read", reader);
        // NIO channels, blocking and not.
        ServerSocketChannel ssc = ServerSocketChannel.open();
        ssc.bind(LO);
        nb("ServerSocketChannel blocking", ssc);
        SocketChannel sc = SocketChannel.open(ssc.getLocalAddress());
        nb("SocketChannel blocking", sc);
        SocketChannel sca = ssc.accept();
        nb("SocketChannel accepted by a blocking ServerSocketChannel", sca);
        ssc.configureBlocking(false);
        nb("ServerSocketChannel configureBlocking(false)", ssc);
        SocketChannel sc2 = SocketChannel.open();
        sc2.configureBlocking(false);
        sc2.connect(ssc.getLocalAddress());
        while (!sc2.finishConnect()) Thread.sleep(1);
        nb("SocketChannel configureBlocking(false)", sc2);
        SocketChannel sca2 = null;
        while (sca2 == null) sca2 = ssc.accept();
        nb("SocketChannel accepted by a non-blocking ServerSocketChannel", sca2);
        SocketChannel sc3 = SocketChannel.open(ssc.getLocalAddress());
        sc3.socket().setSoTimeout(50);
        try { sc3.socket().getInputStream().read(); } catch (SocketTimeoutException e) { /* expected */ }
        nb("SocketChannel blocking, after a timed read through socket().getInputStream()", sc3);
        DatagramChannel dc = DatagramChannel.open();
        dc.bind(LO);
        nb("DatagramChannel blocking", dc);
        dc.configureBlocking(false);
        nb("DatagramChannel configureBlocking(false)", dc);
        DatagramSocket ds = new DatagramSocket(LO);
        nb("DatagramSocket", ds);
        ds.setSoTimeout(50);
        try { ds.receive(new DatagramPacket(new byte[1], 1)); } catch (SocketTimeoutException e) { /* expected */ }
        nb("DatagramSocket after a timed receive", ds);
        MulticastSocket ms = new MulticastSocket(LO);
        nb("MulticastSocket", ms);
        // Asynchronous channels.
        AsynchronousServerSocketChannel assc = AsynchronousServerSocketChannel.open();
        assc.bind(LO);
        nb("AsynchronousServerSocketChannel", assc);
        AsynchronousSocketChannel asc = AsynchronousSocketChannel.open();
        nb("AsynchronousSocketChannel unconnected", asc);
        java.util.concurrent.Future<AsynchronousSocketChannel> f = assc.accept();
        asc.connect(assc.getLocalAddress()).get(5, TimeUnit.SECONDS);
        nb("AsynchronousSocketChannel connected", asc);
        AsynchronousSocketChannel asa = f.get(5, TimeUnit.SECONDS);
        nb("AsynchronousSocketChannel accepted", asa);
        asa.read(java.nio.ByteBuffer.allocate(1)); // a pending read needs the group's threads
        Thread.sleep(200);
        Set<String> after = threadNames();
        after.removeAll(before);

        // Accepted sockets inherit the listener's SO_REUSEADDR (the JDK set 1 on the listener).
        Map<String, String> reuse = new LinkedHashMap<>();
        reuse.put("ServerSocket", String.valueOf(acc.getReuseAddress()));
        reuse.put("ServerSocketChannel.open()", String.valueOf(sca.getOption(StandardSocketOptions.SO_REUSEADDR)));
        ServerSocketChannel inet = ServerSocketChannel.open(StandardProtocolFamily.INET);
        inet.bind(new InetSocketAddress("127.0.0.1", 0));
        SocketChannel ic = SocketChannel.open(inet.getLocalAddress());
        reuse.put("ServerSocketChannel.open(StandardProtocolFamily.INET)", String.valueOf(inet.accept().getOption(StandardSocketOptions.SO_REUSEADDR)));
        reuse.put("AsynchronousServerSocketChannel", String.valueOf(asa.getOption(StandardSocketOptions.SO_REUSEADDR)));

        SocketChannel buf = SocketChannel.open();
        buf.setOption(StandardSocketOptions.SO_RCVBUF, 100001);
        int readBack = buf.getOption(StandardSocketOptions.SO_RCVBUF);

        StringBuilder b = new StringBuilder("{\"java\":{\"version\":\"").append(System.getProperty("java.version"))
                .append("\",\"feature\":").append(Runtime.version().feature()).append(",\"vendor\":\"").append(System.getProperty("java.vendor")).append("\"}");
        b.append(",\"supportedOptions\":{");
        int i = 0;
        for (Map.Entry<String, String> e : sup.entrySet()) b.append(i++ > 0 ? "," : "").append('"').append(e.getKey()).append("\":").append(e.getValue());
        b.append("},\"nonblocking\":{");
        i = 0;
        for (Map.Entry<String, String> e : nb.entrySet()) b.append(i++ > 0 ? "," : "").append('"').append(e.getKey()).append("\":").append(e.getValue());
        b.append("},\"acceptedReuseAddr\":{");
        i = 0;
        for (Map.Entry<String, String> e : reuse.entrySet()) b.append(i++ > 0 ? "," : "").append('"').append(e.getKey()).append("\":").append(e.getValue());
        b.append("},\"bufferReadBack\":{\"setOption(SO_RCVBUF, 100001) then getOption\":").append(readBack).append('}');
        List<String> t = new ArrayList<>();
        for (String n : after) t.add("\"" + n.replaceAll("\\d+$", "N") + "\"");
        b.append(",\"newThreads\":[").append(String.join(",", new TreeSet<>(t))).append("]}");
        System.out.println(b);
        System.exit(0);
    }

    static Set<String> threadNames() throws IOException {
        Set<String> s = new HashSet<>();
        try (var d = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path p : d) s.add(Files.readString(p.resolve("comm")).trim());
        }
        return s;
    }
}
