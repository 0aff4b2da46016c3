// Embedded Tomcat 10.1 (Debian libtomcat10-java), two NIO HTTP/1.1
// connectors on 127.0.0.1:
//   custom:  acceptCount 77, socket.soKeepAlive true, socket.soLingerOn true,
//            socket.soLingerTime 6, socket.rxBufSize 65536, socket.tcpNoDelay false
//   default: nothing set (Tomcat's defaults: acceptCount 100, tcpNoDelay true)
// and a plain java.net.Socket client (no option set) connected to each, idle
// (connectionTimeout is an hour, so Tomcat keeps it).
//
// READY {"pid":..,"tomcat":"10.1.x","sockets":{"customListener":{"localPort":..,"set":{..}},
//   "customAccepted":{..},"customClient":{..},"defaultListener":..,"defaultAccepted":..,"defaultClient":..}}
import java.io.File;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;

public class TomcatServer {
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

    static Connector connector(Map<String, Object> props) {
        Connector c = new Connector("HTTP/1.1"); // NIO endpoint
        c.setPort(0);
        c.setProperty("address", "127.0.0.1");
        c.setProperty("connectionTimeout", "3600000");
        c.setProperty("keepAliveTimeout", "3600000");
        for (Map.Entry<String, Object> e : props.entrySet()) {
            if (!c.setProperty(e.getKey(), String.valueOf(e.getValue()))) throw new IllegalArgumentException("Tomcat rejected " + e.getKey());
        }
        return c;
    }

    static Socket client(int port) throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port));
        return s;
    }

    public static void main(String[] args) throws Exception {
        File base = Files.createTempDirectory("tomcat-sample").toFile();
        base.deleteOnExit();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.getAbsolutePath());

        Map<String, Object> customSet = map("acceptCount", 77, "socket.soKeepAlive", true, "socket.soLingerOn", true,
                "socket.soLingerTime", 6, "socket.rxBufSize", 65536, "socket.tcpNoDelay", false);
        Connector custom = connector(customSet);
        Connector dflt = connector(map());
        tomcat.getService().addConnector(custom);
        tomcat.getService().addConnector(dflt);
        tomcat.setConnector(dflt);
        tomcat.start();

        int cp = custom.getLocalPort();
        int dp = dflt.getLocalPort();
        Socket c1 = client(cp);
        Socket c2 = client(dp);
        Thread.sleep(200); // let the acceptor thread take both connections

        Map<String, Object> listenerSet = map("acceptCount", 77);
        Map<String, Object> acceptedSet = new LinkedHashMap<>(customSet);
        acceptedSet.remove("acceptCount");
        Map<String, Object> sockets = map(
                "customListener", map("localPort", cp, "set", listenerSet),
                "customAccepted", map("localPort", cp, "remotePort", c1.getLocalPort(), "set", acceptedSet),
                "customClient", map("localPort", c1.getLocalPort(), "remotePort", cp, "set", map()),
                "defaultListener", map("localPort", dp, "set", map()),
                "defaultAccepted", map("localPort", dp, "remotePort", c2.getLocalPort(), "set", map()),
                "defaultClient", map("localPort", c2.getLocalPort(), "remotePort", dp, "set", map()));
        System.out.println("READY " + obj(map("pid", ProcessHandle.current().pid(), "tomcat", ServerInfo.getServerNumber(), "sockets", sockets)));
        System.out.flush();

        while (System.in.read() >= 0) { /* until stdin closes */ }
        c1.close();
        c2.close();
        tomcat.stop();
        tomcat.destroy();
    }
}
