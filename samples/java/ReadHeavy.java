import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A read-heavy JVM for bench/observe.js: `clients` client Sockets (with
 * setSoTimeout) read `chunk`-byte pieces as fast as they can from accepted
 * sockets that write without pause, all on 127.0.0.1.
 *
 *   java ReadHeavy [clients=N] [chunk=BYTES]
 *
 * READY {"pid":..}; then stdin "count" prints "COUNT <reads> <bytes> <nanoTime>"
 * (totals since start), so a caller can measure reads per second.
 */
public class ReadHeavy {
    static final AtomicLong READS = new AtomicLong(), BYTES = new AtomicLong();

    static Thread daemon(Runnable r) {
        Thread t = new Thread(r);
        t.setDaemon(true);
        t.start();
        return t;
    }

    public static void main(String[] args) throws Exception {
        int clients = 2, chunk = 512;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            if (kv[0].equals("clients")) clients = Integer.parseInt(kv[1]);
            else if (kv[0].equals("chunk")) chunk = Integer.parseInt(kv[1]);
            else throw new IllegalArgumentException("unknown argument " + a);
        }
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        ServerSocket server = new ServerSocket(0, 50, lo);
        final int size = chunk;
        for (int i = 0; i < clients; i++) {
            Socket c = new Socket(lo, server.getLocalPort());
            c.setSoTimeout(30_000);
            Socket a = server.accept();
            daemon(() -> {
                byte[] b = new byte[64 * 1024];
                try {
                    OutputStream out = a.getOutputStream();
                    while (true) out.write(b);
                } catch (IOException e) {
                    // closed
                }
            });
            daemon(() -> {
                byte[] b = new byte[size];
                try {
                    InputStream in = c.getInputStream();
                    long local = 0, bytes = 0;
                    while (true) {
                        int n = in.read(b, 0, size);
                        if (n < 0) return;
                        bytes += n;
                        if (++local == 256) {
                            READS.addAndGet(local);
                            BYTES.addAndGet(bytes);
                            local = 0;
                            bytes = 0;
                        }
                    }
                } catch (IOException e) {
                    // closed
                }
            });
        }
        System.out.println("READY {\"pid\":" + ProcessHandle.current().pid() + ",\"port\":" + server.getLocalPort() + "}");
        System.out.flush();
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = stdin.readLine()) != null) {
            if (line.trim().equals("count")) {
                System.out.println("COUNT " + READS.get() + " " + BYTES.get() + " " + System.nanoTime());
                System.out.flush();
            }
        }
    }
}
