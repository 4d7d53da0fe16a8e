#include "http/http_server.hpp"

#include <charconv>
#include <set>
#include <stdexcept>
#include <thread>

#include <httplib.h>

namespace energyhub {

struct HttpServer::Impl {
    httplib::Server server;
    std::thread thread;
    std::string token;
    std::set<std::string> public_paths;
};

std::pair<std::string, int> parse_listen_address(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) throw std::invalid_argument("listen address must be host:port: " + listen);
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int port = -1;
    auto p = listen.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port < 0 || port > 65535)
        throw std::invalid_argument("bad port in listen address: " + listen);
    return {host, port};
}

bool is_loopback_host(std::string_view host) {
    // Drop the port: "[::1]:8080", "127.0.0.1:8080", "localhost:8080".
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos) return false;
        const auto rest = host.substr(close + 1);
        return host.substr(1, close - 1) == "::1" && (rest.empty() || rest.front() == ':');
    }
    if (const auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
    if (host == "localhost") return true;
    if (host.substr(0, 4) != "127.") return false;
    int dots = 0;
    for (char c : host) {
        if (c == '.') ++dots;
        else if (c < '0' || c > '9') return false;
    }
    return dots == 3;
}

HttpServer::HttpServer(const std::string& listen) : impl_(std::make_unique<Impl>()) {
    std::tie(host_, port_) = parse_listen_address(listen);
    impl_->server.set_keep_alive_max_count(100);
    impl_->server.set_read_timeout(5, 0);
    impl_->server.set_write_timeout(5, 0);
    impl_->server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        // Without a token the listener is on loopback, and only a loopback name may address it: a
        // page elsewhere that rebinds its own name to 127.0.0.1 must not read the API.
        if (impl_->token.empty() && !is_loopback_host(req.get_header_value("Host"))) {
            res.status = 403;
            res.set_content("{\"error\":\"the Host header must name this machine's loopback address\"}", "application/json");
            return httplib::Server::HandlerResponse::Handled;
        }
        if (impl_->token.empty() || req.path.rfind("/health", 0) == 0 || impl_->public_paths.count(req.path))
            return httplib::Server::HandlerResponse::Unhandled;
        if (req.get_header_value("Authorization") == "Bearer " + impl_->token)
            return httplib::Server::HandlerResponse::Unhandled;
        res.status = 401;
        res.set_content("{\"error\":\"missing or wrong bearer token\"}", "application/json");
        return httplib::Server::HandlerResponse::Handled;
    });
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::get(const std::string& pattern, Handler handler) {
    impl_->server.Get(pattern, [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        HttpRequest r;
        r.path = req.path;
        for (std::size_t i = 1; i < req.matches.size(); ++i) r.captures.push_back(req.matches[i].str());
        for (const auto& [k, v] : req.params) r.query[k] = v;
        for (const auto& [k, v] : req.headers) {
            std::string name = k;
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[name] = v;
        }
        HttpResponse out;
        try {
            out = handler(r);
        } catch (const std::exception&) {
            out = {503, "application/json", "{\"error\":\"unavailable\"}"};
        }
        res.status = out.status;
        res.set_content(out.body, out.content_type);
    });
}

void HttpServer::require_token(std::string token) { impl_->token = std::move(token); }

void HttpServer::public_path(std::string path) { impl_->public_paths.insert(std::move(path)); }

void HttpServer::start() {
    if (port_ == 0) {
        port_ = impl_->server.bind_to_any_port(host_);
        if (port_ < 0) throw std::runtime_error("cannot listen on " + host_);
    } else if (!impl_->server.bind_to_port(host_, port_)) {
        throw std::runtime_error("cannot listen on " + host_ + ":" + std::to_string(port_));
    }
    impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
}

void HttpServer::stop() {
    if (!impl_->thread.joinable()) return;
    impl_->server.stop();
    impl_->thread.join();
}

}  // namespace energyhub
