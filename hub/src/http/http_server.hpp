#pragma once
// The small HTTP listener every daemon has (health, metrics, and the hub's dashboard and API), on
// Boost.Beast: one I/O thread serves every connection, so slow or idle clients cost memory, not
// threads; each must send its request within a deadline, and connections are bounded per client
// and in all. Probes (health, metrics) answer on the I/O thread and never queue behind route
// handlers, which run on a small pool. Handlers must only read shared state.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace energyhub {

struct HttpRequest {
    std::string path;
    std::vector<std::string> captures;          // the pattern's groups, in order
    std::map<std::string, std::string> query;   // ?since=24h
    std::map<std::string, std::string> headers;  // lower-case names
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};

class HttpServer {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;

    // listen: "127.0.0.1:8080" or "[::1]:8080"; port 0 picks a free port. Throws
    // std::invalid_argument for a malformed address.
    explicit HttpServer(const std::string& listen);
    ~HttpServer();

    // GET routes; `pattern` is the whole (decoded) path, whose segments are literal or "([^/]+)"
    // (captures one segment), e.g. "/api/devices/([^/]+)/usage". Handlers run on the worker pool
    // and may block (database queries).
    void get(const std::string& pattern, Handler handler);
    // GET routes that answer from memory at once (health, metrics): run on the I/O thread.
    void probe(const std::string& pattern, Handler handler);

    // Requests must carry "Authorization: Bearer <token>" (except those under /health).
    void require_token(std::string token);
    // An exact path served without the token (a static page that holds no data). Before start().
    void public_path(std::string path);
    // Serve HTTPS only, with this certificate (chain) and key, PEM files. Before start(); throws
    // std::runtime_error naming the file that cannot be used.
    void use_tls(const std::string& cert_file, const std::string& key_file);
    bool tls() const;

    // Binds and serves on a background thread; throws std::runtime_error if it cannot bind.
    void start();
    void stop();

    int port() const { return port_; }
    const std::string& host() const { return host_; }

    struct Impl;  // the listener's state, shared with its connections (http_server.cpp)

private:
    std::unique_ptr<Impl> impl_;
    std::string host_;
    int port_ = 0;
};

}  // namespace energyhub
