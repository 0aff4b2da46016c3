// Apache HttpClient 5 classic (Debian libhttpclient5-java) against a tiny
// HTTP/1.1 keep-alive server this sample starts on 127.0.0.1 (a plain
// ServerSocket, no option set). Two clients each make one request and keep
// their connection pooled (open):
//   custom:  PoolingHttpClientConnectionManager with SocketConfig soKeepAlive true,
//            tcpNoDelay true, soLinger 4 s, rcvBufSize 65536, sndBufSize 32768
//   default: HttpClients.createDefault() (SocketConfig.DEFAULT)
//
// READY {"pid":..,"httpclient":"5.x","sockets":{"server":{"localPort":..},
//   "customClient":{"localPort":..,"remotePort":..,"set":{..}},"customAccepted":{..},
//   "defaultClient":{..},"defaultAccepted":{..}}}
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.apache.hc.core5.util.VersionInfo;

public class HttpClient5 {
    static String q(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    @SuppressWarnings("unchecked")
    static String obj(Map<String, ?> m) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, ?> e : m.entrySet()) {
            if (b.length() > 1) b.append(',');
            Object v = e.getValue();
            b.append(q(e.getKey())).append(':')
                    .append(v instanceof String ? q((String) v) : v instanceof Map ? obj((Map<String, ?>) v) : String.valueOf(v));
        }
        return b.append('}').toString();
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    static final List<Socket> CONNS = new ArrayList<>();
    static final LinkedBlockingQueue<Socket> ACCEPTED = new LinkedBlockingQueue<>();

    /** Serves "ok" to every request on a connection until the peer closes it. */
    static void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            StringBuilder head = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0) {
                head.append((char) c);
                if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=3600\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    head.setLength(0);
                }
            }
        } catch (Exception e) {
            // connection gone
        }
    }

    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    Socket s = server.accept();
                    ACCEPTED.add(s);
                    Thread t = new Thread(() -> serve(s));
                    t.setDaemon(true);
                    t.start();
                }
            } catch (Exception e) {
                // server closed
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        String url = "http://127.0.0.1:" + server.getLocalPort() + "/";

        PoolingHttpClientConnectionManager cm = new PoolingHttpClientConnectionManager();
        cm.setDefaultSocketConfig(SocketConfig.custom()
                .setSoKeepAlive(true)
                .setTcpNoDelay(true)
                .setSoLinger(TimeValue.ofSeconds(4))
                .setRcvBufSize(65536)
                .setSndBufSize(32768)
                .setSoTimeout(Timeout.ofSeconds(30))
                .build());
        CloseableHttpClient custom = HttpClients.custom().setConnectionManager(cm).build();
        Map<String, Object> sockets = new LinkedHashMap<>();
        sockets.put("server", map("localPort", server.getLocalPort(), "set", map()));

        String customBody = custom.execute(new HttpGet(url), r -> EntityUtils.toString(r.getEntity()));
        Socket a1 = ACCEPTED.poll(10, TimeUnit.SECONDS);
        CloseableHttpClient dflt = HttpClients.createDefault();
        String defaultBody = dflt.execute(new HttpGet(url), r -> EntityUtils.toString(r.getEntity()));
        Socket a2 = ACCEPTED.poll(10, TimeUnit.SECONDS);
        if (a1 == null || a2 == null || !"ok".equals(customBody) || !"ok".equals(defaultBody)) throw new IllegalStateException("requests failed");

        sockets.put("customClient", map("localPort", a1.getPort(), "remotePort", server.getLocalPort(),
                "set", map("soKeepAlive", true, "tcpNoDelay", true, "soLinger", 4, "rcvBufSize", 65536, "sndBufSize", 32768, "soTimeout", 30000)));
        sockets.put("customAccepted", map("localPort", server.getLocalPort(), "remotePort", a1.getPort(), "set", map()));
        sockets.put("defaultClient", map("localPort", a2.getPort(), "remotePort", server.getLocalPort(), "set", map()));
        sockets.put("defaultAccepted", map("localPort", server.getLocalPort(), "remotePort", a2.getPort(), "set", map()));

        VersionInfo vi = VersionInfo.loadVersionInfo("org.apache.hc.client5", HttpClient5.class.getClassLoader());
        String version = vi != null ? vi.getRelease() : "unknown";
        System.out.println("READY " + obj(map("pid", ProcessHandle.current().pid(), "httpclient", version, "sockets", sockets)));
        System.out.flush();

        while (System.in.read() >= 0) { /* until stdin closes */ }
        custom.close();
        dflt.close();
        server.close();
    }
}
