// A pool of Apache HttpClient 5 classic connections (Debian libhttpclient5-java)
// to one HTTP/1.1 keep-alive server this sample runs on 127.0.0.1 (a plain
// ServerSocket): the case --observe can only attribute to the group of
// connections to that peer. The pool's read timeout is one random value T,
// set as SocketConfig soTimeout and as RequestConfig responseTimeout (the
// one HttpClient applies while it waits for a response); every accepted
// socket gets its own random setSoTimeout.
//
//   java HttpClientPool [connections=N] [seed=S]
//
// READY {"pid":..,"httpclient":"5.x","serverPort":..,"soTimeout":T,"connections":N,
//        "accepted":[{"localPort","remotePort","soTimeout"}]}
// stdin "burst K": K requests on each of N threads (pooled connections), then
// DONE {"requests":..}.
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.Timeout;
import org.apache.hc.core5.util.VersionInfo;

public class HttpClientPool {
    static final List<String> ACCEPTED = new ArrayList<>();
    static volatile int delayMs = 300;

    /** Serves "ok" to every request on a connection until the peer closes it. */
    static void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] b = new byte[4096];
            StringBuilder head = new StringBuilder();
            int n;
            while ((n = in.read(b)) > 0) {
                head.append(new String(b, 0, n, StandardCharsets.ISO_8859_1));
                while (head.indexOf("\r\n\r\n") >= 0) {
                    head.delete(0, head.indexOf("\r\n\r\n") + 4);
                    if (delayMs > 0) Thread.sleep(delayMs);
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=3600\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }
        } catch (Exception e) {
            // connection gone
        }
    }

    public static void main(String[] args) throws Exception {
        int connections = 4;
        long seed = System.nanoTime();
        for (String a : args) {
            String[] kv = a.split("=", 2);
            if (kv[0].equals("connections")) connections = Integer.parseInt(kv[1]);
            else if (kv[0].equals("seed")) seed = Long.parseLong(kv[1]);
            else throw new IllegalArgumentException("unknown argument " + a);
        }
        Random rnd = new Random(seed);
        Set<Integer> used = new HashSet<>();
        int soTimeout = 5_000 + rnd.nextInt(55_000);
        used.add(soTimeout);
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    Socket s = server.accept();
                    int t;
                    do t = 60_000 + rnd.nextInt(540_000); while (!used.add(t));
                    s.setSoTimeout(t);
                    synchronized (ACCEPTED) {
                        ACCEPTED.add(String.format("{\"localPort\":%d,\"remotePort\":%d,\"soTimeout\":%d}", s.getLocalPort(), s.getPort(), t));
                    }
                    Thread h = new Thread(() -> serve(s));
                    h.setDaemon(true);
                    h.start();
                }
            } catch (Exception e) {
                // server closed
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();

        PoolingHttpClientConnectionManager cm = PoolingHttpClientConnectionManagerBuilder.create()
                .setDefaultSocketConfig(SocketConfig.custom().setSoTimeout(Timeout.ofMilliseconds(soTimeout)).build())
                .setMaxConnPerRoute(connections)
                .setMaxConnTotal(connections)
                .build();
        RequestConfig rc = RequestConfig.custom().setResponseTimeout(Timeout.ofMilliseconds(soTimeout)).build();
        CloseableHttpClient client = HttpClients.custom().setConnectionManager(cm).setDefaultRequestConfig(rc).build();
        String url = "http://127.0.0.1:" + server.getLocalPort() + "/";
        AtomicInteger requests = new AtomicInteger();

        // Warm up: N requests at once against a slow server open N pooled connections.
        run(client, url, connections, 1, requests);
        delayMs = 0;
        while (true) {
            synchronized (ACCEPTED) {
                if (ACCEPTED.size() >= connections) break;
            }
            Thread.sleep(10);
        }
        VersionInfo vi = VersionInfo.loadVersionInfo("org.apache.hc.client5", HttpClientPool.class.getClassLoader());
        String accepted;
        synchronized (ACCEPTED) {
            accepted = String.join(",", ACCEPTED);
        }
        System.out.println("READY {\"pid\":" + ProcessHandle.current().pid() + ",\"httpclient\":\"" + (vi != null ? vi.getRelease() : "unknown")
                + "\",\"serverPort\":" + server.getLocalPort() + ",\"soTimeout\":" + soTimeout + ",\"connections\":" + connections
                + ",\"accepted\":[" + accepted + "]}");
        System.out.flush();

        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = stdin.readLine()) != null) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 2 && p[0].equals("burst")) {
                requests.set(0);
                run(client, url, connections, Integer.parseInt(p[1]), requests);
                System.out.println("DONE {\"requests\":" + requests.get() + "}");
                System.out.flush();
            }
        }
        client.close();
        server.close();
    }

    static void run(CloseableHttpClient client, String url, int threads, int each, AtomicInteger requests) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(threads);
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    for (int k = 0; k < each; k++) {
                        String body = client.execute(new HttpGet(url), r -> EntityUtils.toString(r.getEntity()));
                        if ("ok".equals(body)) requests.incrementAndGet();
                    }
                } catch (Exception e) {
                    System.err.println("HttpClientPool: " + e);
                } finally {
                    done.countDown();
                }
            });
            t.start();
        }
        done.await();
    }
}
