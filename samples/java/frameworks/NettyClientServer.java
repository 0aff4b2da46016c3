// Netty 4.1 NIO (Debian libnetty-java) on 127.0.0.1:
//   customServer:  ServerBootstrap option SO_BACKLOG 200, SO_REUSEADDR true;
//                  childOption TCP_NODELAY true, SO_KEEPALIVE true
//   defaultServer: ServerBootstrap with no option (Netty's defaults)
//   customClient:  Bootstrap option SO_RCVBUF 32768, SO_KEEPALIVE true, IP_TOS 0x10 -> customServer
//   defaultClient: Bootstrap with no option -> defaultServer
// plus, when Netty's native epoll transport loads, the same over epoll with
// EpollChannelOption TCP_USER_TIMEOUT / TCP_KEEPIDLE ("epoll" in READY says
// whether it loaded and why not: Debian ships the classes without the .so).
//
// READY {"pid":..,"netty":"4.1.x","epoll":{"available":..,"cause":..},
//   "sockets":{"customListener":{"localPort":..,"set":{..}},"customAccepted":{..},"customClient":{..},...}}
// "set" is what the sample asked Netty for, in Netty's names.
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.Version;

public class NettyClientServer {
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

    /** Accepted channels, recorded by remote port, so READY can name them. */
    static final Map<Integer, Channel> ACCEPTED = new java.util.concurrent.ConcurrentHashMap<>();

    static ChannelInitializer<Channel> recordAccepted() {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ACCEPTED.put(((InetSocketAddress) ch.remoteAddress()).getPort(), ch);
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        io.netty.util.ReferenceCountUtil.release(msg);
                    }
                });
            }
        };
    }

    static ChannelInitializer<Channel> noop() {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) { }
        };
    }

    static int port(Channel ch) {
        return ((InetSocketAddress) ch.localAddress()).getPort();
    }

    /** Adds listener, accepted and client entries for one server/client pair. */
    static void pair(Map<String, Object> out, String name, Channel server, Channel client, Map<String, Object> serverSet,
                     Map<String, Object> childSet, Map<String, Object> clientSet) throws InterruptedException {
        int cport = port(client);
        for (int i = 0; i < 200 && !ACCEPTED.containsKey(cport); i++) Thread.sleep(10);
        out.put(name + "Listener", map("localPort", port(server), "set", serverSet));
        out.put(name + "Accepted", map("localPort", port(server), "remotePort", cport, "set", childSet));
        out.put(name + "Client", map("localPort", cport, "remotePort", port(server), "set", clientSet));
    }

    public static void main(String[] args) throws Exception {
        EventLoopGroup boss = new NioEventLoopGroup(1);
        EventLoopGroup workers = new NioEventLoopGroup(1);
        Map<String, Object> sockets = new LinkedHashMap<>();

        Channel customServer = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 200)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(recordAccepted())
                .bind("127.0.0.1", 0).sync().channel();
        Channel customClient = new Bootstrap().group(workers).channel(NioSocketChannel.class)
                .option(ChannelOption.SO_RCVBUF, 32768)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.IP_TOS, 0x10)
                .handler(noop())
                .connect("127.0.0.1", port(customServer)).sync().channel();
        pair(sockets, "custom", customServer, customClient,
                map("SO_BACKLOG", 200, "SO_REUSEADDR", true),
                map("TCP_NODELAY", true, "SO_KEEPALIVE", true),
                map("SO_RCVBUF", 32768, "SO_KEEPALIVE", true, "IP_TOS", 16));

        Channel defaultServer = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .childHandler(recordAccepted())
                .bind("127.0.0.1", 0).sync().channel();
        Channel defaultClient = new Bootstrap().group(workers).channel(NioSocketChannel.class)
                .handler(noop())
                .connect("127.0.0.1", port(defaultServer)).sync().channel();
        pair(sockets, "default", defaultServer, defaultClient, map(), map(), map());

        Map<String, Object> epoll = new LinkedHashMap<>();
        epoll.put("available", Epoll.isAvailable());
        EventLoopGroup epollGroup = null;
        if (Epoll.isAvailable()) {
            epollGroup = new EpollEventLoopGroup(1);
            Channel es = new ServerBootstrap().group(epollGroup).channel(EpollServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 300)
                    .childOption(EpollChannelOption.TCP_USER_TIMEOUT, 15000)
                    .childOption(EpollChannelOption.TCP_KEEPIDLE, 60)
                    .childHandler(recordAccepted())
                    .bind("127.0.0.1", 0).sync().channel();
            Channel ec = new Bootstrap().group(epollGroup).channel(EpollSocketChannel.class)
                    .option(EpollChannelOption.TCP_USER_TIMEOUT, 20000)
                    .option(EpollChannelOption.TCP_KEEPIDLE, 30)
                    .option(ChannelOption.SO_KEEPALIVE, true)
                    .handler(noop())
                    .connect("127.0.0.1", port(es)).sync().channel();
            pair(sockets, "epoll", es, ec, map("SO_BACKLOG", 300),
                    map("TCP_USER_TIMEOUT", 15000, "TCP_KEEPIDLE", 60),
                    map("TCP_USER_TIMEOUT", 20000, "TCP_KEEPIDLE", 30, "SO_KEEPALIVE", true));
        } else {
            Throwable cause = Epoll.unavailabilityCause();
            String why = String.valueOf(cause);
            while (cause != null && cause.getCause() != null) cause = cause.getCause();
            epoll.put("cause", why.length() > 300 ? why.substring(0, 300) : why);
            if (cause != null) epoll.put("rootCause", String.valueOf(cause));
        }

        String version = Version.identify().containsKey("netty-transport") ? Version.identify().get("netty-transport").artifactVersion() : "unknown";
        System.out.println("READY " + obj(map("pid", ProcessHandle.current().pid(), "netty", version, "epoll", epoll, "sockets", sockets)));
        System.out.flush();

        while (System.in.read() >= 0) { /* until stdin closes */ }
        customClient.close();
        defaultClient.close();
        boss.shutdownGracefully();
        workers.shutdownGracefully();
        if (epollGroup != null) epollGroup.shutdownGracefully();
    }
}
