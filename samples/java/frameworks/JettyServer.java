// Jetty 9.4 (Debian libjetty9-java) with two ServerConnectors on 127.0.0.1:
//   custom:  acceptQueueSize 77, reuseAddress true, soLingerTime 5,
//            acceptedTcpNoDelay true, acceptedReceiveBufferSize 65536
//   default: nothing set (Jetty's defaults)
// and one plain java.net.Socket client (no option set) connected to each, so
// the accepted sockets exist. Idle timeouts are an hour so nothing closes.
//
// READY {"pid":..,"jetty":"9.4.x","sockets":{"customListener":{"localPort":..,"set":{..}},
//   "customAccepted":{"localPort":..,"remotePort":..,"set":{..}},"customClient":{..},
//   "defaultListener":..,"defaultAccepted":..,"defaultClient":..}}
// "set" lists what the sample asked Jetty for (Jetty's names), not what Jetty did:
// samples/java/frameworks/README.md records what strace shows Jetty really calls.
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.AbstractHandler;
import org.eclipse.jetty.util.Jetty;

public class JettyServer {
    static String q(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    static String obj(Map<String, Object> m) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (b.length() > 1) b.append(',');
            Object v = e.getValue();
            b.append(q(e.getKey())).append(':').append(v instanceof String ? q((String) v) : v instanceof Map ? obj(cast(v)) : String.valueOf(v));
        }
        return b.append('}').toString();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }

    static String sock(int localPort, int remotePort, Map<String, Object> set) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("localPort", localPort);
        if (remotePort >= 0) m.put("remotePort", remotePort);
        m.put("set", set);
        return obj(m);
    }

    /** A client with no option set; sends one request and reads the response, leaving the connection open. */
    static Socket client(int port) throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port));
        OutputStream out = s.getOutputStream();
        out.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            head.append((char) c);
            if (head.toString().endsWith("\r\n\r\nok")) break;
        }
        return s;
    }

    @SuppressWarnings("deprecation")
    public static void main(String[] args) throws Exception {
        Server server = new Server();

        ServerConnector custom = new ServerConnector(server);
        custom.setHost("127.0.0.1");
        custom.setPort(0);
        custom.setIdleTimeout(3_600_000);
        custom.setAcceptQueueSize(77);
        custom.setReuseAddress(true);
        custom.setSoLingerTime(5); // deprecated in 9.4: kept to show what it does
        custom.setAcceptedTcpNoDelay(true);
        custom.setAcceptedReceiveBufferSize(65536);
        Map<String, Object> customSet = new LinkedHashMap<>();
        customSet.put("acceptQueueSize", 77);
        customSet.put("reuseAddress", true);
        customSet.put("soLingerTime", 5);
        Map<String, Object> acceptedSet = new LinkedHashMap<>();
        acceptedSet.put("acceptedTcpNoDelay", true);
        acceptedSet.put("acceptedReceiveBufferSize", 65536);
        acceptedSet.put("soLingerTime", 5);

        ServerConnector dflt = new ServerConnector(server);
        dflt.setHost("127.0.0.1");
        dflt.setPort(0);
        dflt.setIdleTimeout(3_600_000);

        server.addConnector(custom);
        server.addConnector(dflt);
        server.setHandler(new AbstractHandler() {
            @Override
            public void handle(String target, Request base, HttpServletRequest req, HttpServletResponse resp) throws java.io.IOException {
                resp.setStatus(200);
                resp.setContentLength(2);
                resp.getOutputStream().write("ok".getBytes(StandardCharsets.US_ASCII));
                base.setHandled(true);
            }
        });
        server.start();

        Socket c1 = client(custom.getLocalPort());
        Socket c2 = client(dflt.getLocalPort());
        Map<String, Object> none = new LinkedHashMap<>();

        String sockets = "{"
                + "\"customListener\":" + sock(custom.getLocalPort(), -1, customSet)
                + ",\"customAccepted\":" + sock(custom.getLocalPort(), c1.getLocalPort(), acceptedSet)
                + ",\"customClient\":" + sock(c1.getLocalPort(), custom.getLocalPort(), none)
                + ",\"defaultListener\":" + sock(dflt.getLocalPort(), -1, none)
                + ",\"defaultAccepted\":" + sock(dflt.getLocalPort(), c2.getLocalPort(), none)
                + ",\"defaultClient\":" + sock(c2.getLocalPort(), dflt.getLocalPort(), none)
                + "}";
        System.out.println("READY {\"pid\":" + ProcessHandle.current().pid() + ",\"jetty\":" + q(Jetty.VERSION) + ",\"sockets\":" + sockets + "}");
        System.out.flush();

        while (System.in.read() >= 0) { /* until stdin closes */ }
        c1.close();
        c2.close();
        server.stop();
    }
}
