#include "http/http_server.hpp"

#include "util/listen_address.hpp"

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace energyhub {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// A client must send a whole request head within the deadline (a slow or idle client is closed,
// it never holds a thread: every connection is served by one I/O thread), and may keep at most
// kMaxPerClient connections open; past kMaxConnections new ones are closed at once.
constexpr auto kRequestDeadline = std::chrono::seconds(10);
constexpr auto kWriteDeadline = std::chrono::seconds(10);
constexpr std::size_t kMaxConnections = 512;
constexpr std::size_t kMaxPerClient = 64;
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr unsigned kMaxRequestsPerConnection = 100;
// Route handlers (the dashboard API, which queries PostgreSQL) run on a small pool; past this many
// waiting, a request gets 503 at once. Probes (/health, /metrics) answer on the I/O thread.
constexpr unsigned kWorkers = 2;
constexpr std::size_t kMaxQueued = 64;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %XX escapes, and '+' as a space in a query.
std::string percent_decode(std::string_view s, bool query) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += query && s[i] == '+' ? ' ' : s[i];
    }
    return out;
}

void parse_query(std::string_view q, std::map<std::string, std::string>& out) {
    while (!q.empty()) {
        const auto amp = q.find('&');
        const auto pair = q.substr(0, amp);
        const auto eq = pair.find('=');
        if (!pair.empty())
            out[percent_decode(pair.substr(0, eq), true)] =
                eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
}

constexpr std::string_view kCapture = "([^/]+)";

// A route's path pattern: its segments are literal, or "([^/]+)", which captures one non-empty
// segment. (All the routes need; std::regex is slower and trips GCC 12's warnings under ASan.)
class PathPattern {
public:
    explicit PathPattern(std::string_view pattern) {
        std::string marked(pattern);  // the capture holds a '/': mark it before splitting
        for (auto at = marked.find(kCapture); at != std::string::npos; at = marked.find(kCapture, at + 1))
            marked.replace(at, kCapture.size(), std::string(1, kMark));
        split(marked, segments_);
        for (const auto& s : segments_)
            if (s.find_first_of("()[]^+*?\\") != std::string::npos || (s.find(kMark) != std::string::npos && s.size() > 1))
                throw std::invalid_argument("unsupported route pattern: " + std::string(pattern));
    }
    bool match(std::string_view path, std::vector<std::string>& captures) const {
        std::vector<std::string> parts;
        split(path, parts);
        if (parts.size() != segments_.size()) return false;
        captures.clear();
        for (std::size_t i = 0; i < parts.size(); ++i) {
            if (segments_[i].size() == 1 && segments_[i][0] == kMark) {
                if (parts[i].empty()) return false;
                captures.push_back(parts[i]);
            } else if (segments_[i] != parts[i]) {
                return false;
            }
        }
        return true;
    }

private:
    static constexpr char kMark = '\x01';  // never in a path: the hub's paths are ASCII without controls

    static void split(std::string_view path, std::vector<std::string>& out) {
        std::size_t start = 0;
        for (;;) {
            const auto slash = path.find('/', start);
            out.emplace_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
            if (slash == std::string_view::npos) return;
            start = slash + 1;
        }
    }
    std::vector<std::string> segments_;
};

}  // namespace

struct HttpServer::Impl {
    struct Route {
        PathPattern pattern;
        Handler handler;
        bool probe;
    };

    // Before the io_context: sessions it still holds when destroyed update these on the way out.
    std::size_t open = 0;                                // I/O thread only
    std::map<net::ip::address, std::size_t> per_client;  // I/O thread only
    std::atomic<std::size_t> queued{0};
    std::string token;
    std::set<std::string> public_paths;
    std::vector<Route> routes;

    std::optional<net::ssl::context> tls;  // set: every connection is HTTPS

    net::io_context io{1};
    tcp::acceptor acceptor{io};
    net::thread_pool workers{kWorkers};
    std::thread thread;

    void accept();
    // What a request gets before any handler: 403 for a foreign Host on a tokenless listener, 401
    // without the token; nullopt to go on.
    std::optional<HttpResponse> screen(const std::string& path, std::string_view host, std::string_view authorization) const;
};

namespace {

// One connection: plain (beast::tcp_stream) or HTTPS (beast::ssl_stream over it).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
public:
    template <class... TlsContext>
    Session(HttpServer::Impl& server, tcp::socket socket, net::ip::address client, TlsContext&... tls)
        : server_(server), stream_(std::move(socket), tls...), client_(std::move(client)) {}

    void start() {
        if constexpr (kTls) {
            layer().expires_after(kRequestDeadline);  // the handshake counts against the request's time
            stream_.async_handshake(net::ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        if (!ec) self->read();
                                    });
        } else {
            read();
        }
    }

    ~Session() {
        // Runs on the I/O thread: the last handler holding the session returns there.
        --server_.open;
        if (auto it = server_.per_client.find(client_); it != server_.per_client.end() && --it->second == 0)
            server_.per_client.erase(it);
    }

private:
    static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
    beast::tcp_stream& layer() { return beast::get_lowest_layer(stream_); }

    void read() {
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        parser_->body_limit(0);
        layer().expires_after(kRequestDeadline);
        bhttp::async_read(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->dispatch();
                          });
    }

    void dispatch() {
        const auto& req = parser_->get();
        keep_alive_ = req.keep_alive() && ++requests_ < kMaxRequestsPerConnection;
        if (req.method() != bhttp::verb::get) return respond({405, "application/json", R"({"error":"only GET"})"});
        const std::string_view target(req.target().data(), req.target().size());
        const auto question = target.find('?');
        HttpRequest r;
        r.path = percent_decode(target.substr(0, question), false);
        if (question != std::string_view::npos) parse_query(target.substr(question + 1), r.query);
        for (const auto& field : req) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[name] = std::string(field.value());
        }
        if (auto early = server_.screen(r.path, r.headers["host"], r.headers["authorization"])) return respond(*early);

        for (const auto& route : server_.routes) {
            if (!route.pattern.match(r.path, r.captures)) continue;
            if (route.probe) return respond(run(route.handler, r));
            if (server_.queued.load() >= kMaxQueued) return respond({503, "application/json", R"({"error":"busy"})"});
            ++server_.queued;
            // The session goes back to the I/O thread with the answer: it is never released here.
            net::post(server_.workers,
                      [self = this->shared_from_this(), handler = &route.handler, r = std::move(r)]() mutable {
                          auto out = run(*handler, r);
                          --self->server_.queued;
                          auto executor = self->stream_.get_executor();
                          net::post(executor, [self = std::move(self), out = std::move(out)] { self->respond(out); });
                      });
            return;
        }
        respond({404, "application/json", R"({"error":"not found"})"});
    }

    static HttpResponse run(const HttpServer::Handler& handler, const HttpRequest& r) {
        try {
            return handler(r);
        } catch (const std::exception&) {
            return {503, "application/json", "{\"error\":\"unavailable\"}"};
        }
    }

    void respond(const HttpResponse& out) {
        response_ = {};
        response_.result(static_cast<unsigned>(out.status));
        response_.version(11);
        response_.set(bhttp::field::content_type, out.content_type);
        response_.keep_alive(keep_alive_);
        response_.body() = out.body;
        response_.prepare_payload();
        layer().expires_after(kWriteDeadline);
        bhttp::async_write(stream_, response_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return;
            if (self->keep_alive_) return self->read();
            if constexpr (kTls) {
                self->stream_.async_shutdown([self](beast::error_code) {});  // close_notify, then the socket goes
            } else {
                beast::error_code ignored;
                self->layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
            }
        });
    }

    HttpServer::Impl& server_;
    Stream stream_;
    net::ip::address client_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
    bhttp::response<bhttp::string_body> response_;
    bool keep_alive_ = false;
    unsigned requests_ = 0;
};

}  // namespace

void HttpServer::Impl::accept() {
    acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted) return;
        if (!ec) {
            beast::error_code peer_error;
            const auto client = socket.remote_endpoint(peer_error).address();
            auto& mine = per_client[client];
            if (peer_error || open >= kMaxConnections || mine >= kMaxPerClient) {
                if (mine == 0) per_client.erase(client);
                socket.close(peer_error);  // over the bounds: closed at once, costs nothing further
            } else {
                ++open;
                ++mine;
                if (tls)
                    std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(socket), client,
                                                                                    *tls)
                        ->start();
                else
                    std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket), client)->start();
            }
        }
        accept();
    });
}

std::optional<HttpResponse> HttpServer::Impl::screen(const std::string& path, std::string_view host,
                                                     std::string_view authorization) const {
    // Without a token the listener is on loopback, and only a loopback name may address it: a
    // page elsewhere that rebinds its own name to 127.0.0.1 must not read the API.
    if (token.empty() && !is_loopback_host(host))
        return HttpResponse{403, "application/json", R"({"error":"the Host header must name this machine's loopback address"})"};
    if (token.empty() || path.rfind("/health", 0) == 0 || public_paths.count(path)) return std::nullopt;
    if (authorization == "Bearer " + token) return std::nullopt;
    return HttpResponse{401, "application/json", R"({"error":"missing or wrong bearer token"})"};
}

HttpServer::HttpServer(const std::string& listen) : impl_(std::make_unique<Impl>()) {
    std::tie(host_, port_) = parse_listen_address(listen);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::get(const std::string& pattern, Handler handler) {
    impl_->routes.push_back({PathPattern(pattern), std::move(handler), false});
}

void HttpServer::probe(const std::string& pattern, Handler handler) {
    impl_->routes.push_back({PathPattern(pattern), std::move(handler), true});
}

void HttpServer::require_token(std::string token) { impl_->token = std::move(token); }

void HttpServer::public_path(std::string path) { impl_->public_paths.insert(std::move(path)); }

void HttpServer::use_tls(const std::string& cert_file, const std::string& key_file) {
    net::ssl::context ctx(net::ssl::context::tls_server);
    ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 |
                    net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    beast::error_code ec;
    ctx.use_certificate_chain_file(cert_file, ec);
    if (ec) throw std::runtime_error("http.tls.cert_file '" + cert_file + "': " + ec.message());
    ctx.use_private_key_file(key_file, net::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("http.tls.key_file '" + key_file + "': " + ec.message());
    impl_->tls.emplace(std::move(ctx));
}

bool HttpServer::tls() const { return impl_->tls.has_value(); }

void HttpServer::start() {
    beast::error_code ec;
    const auto address = net::ip::make_address(host_ == "localhost" ? "127.0.0.1" : host_, ec);
    if (ec) throw std::runtime_error("cannot listen on " + host_ + ": not an IP address");
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(port_));
    auto& a = impl_->acceptor;
    a.open(endpoint.protocol(), ec);
    if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(endpoint, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + host_ + ":" + std::to_string(port_) + ": " + ec.message());
    port_ = a.local_endpoint().port();
    impl_->accept();
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

void HttpServer::stop() {
    if (!impl_->thread.joinable()) return;
    net::post(impl_->io, [this] {
        beast::error_code ignored;
        impl_->acceptor.close(ignored);
    });
    impl_->workers.join();
    impl_->io.stop();
    impl_->thread.join();
}

}  // namespace energyhub
