#include "connection_fleet.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <limits>
#include <queue>
#include <random>
#include <stdexcept>

#include "ack_log.hpp"
#include "device_feed.hpp"
#include "engine_timing.hpp"
#include "log.hpp"

namespace energyhub::sim {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint16_t kKeepAliveS = 30;
constexpr auto kBackoffMax = 30s;  // between connect attempts, doubling from kReconnectMin
constexpr auto kHousekeeping = 1s;
constexpr auto kMaxWait = 50ms;                // longest sleep between looks at the stop request
constexpr std::size_t kHeldBytes = 64 * 1024;  // per connection, publishes waiting for it to come up
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kSpareDescriptors = 64;  // beside the connections: logs, epoll, resolver

struct Endpoint {
    std::string host;
    std::string port;
};

std::optional<Endpoint> parse_tcp_uri(const std::string& uri) {
    std::string_view rest(uri);
    for (std::string_view scheme : {"tcp://", "mqtt://"}) {
        if (rest.substr(0, scheme.size()) == scheme) {
            rest.remove_prefix(scheme.size());
            Endpoint ep;
            if (!rest.empty() && rest.front() == '[') {  // [v6 address]:port
                auto close = rest.find(']');
                if (close == std::string_view::npos) return std::nullopt;
                ep.host = std::string(rest.substr(1, close - 1));
                rest.remove_prefix(close + 1);
                if (!rest.empty() && rest.front() != ':') return std::nullopt;
                ep.port = rest.empty() ? "1883" : std::string(rest.substr(1));
            } else {
                auto colon = rest.rfind(':');
                ep.host = std::string(rest.substr(0, colon));
                ep.port = colon == std::string_view::npos ? "1883" : std::string(rest.substr(colon + 1));
            }
            if (ep.host.empty() || ep.port.empty()) return std::nullopt;
            return ep;
        }
    }
    return std::nullopt;
}

}  // namespace

bool ConnectionFleet::serves(const std::string& uri) { return parse_tcp_uri(uri).has_value(); }

class ConnectionFleet::Impl {
public:
    Impl(const PublishOptions& options, std::vector<wire::Login> logins, std::vector<std::vector<DeviceSpec>> devices,
         AckLog* acked_log, const StopRequest& stop);
    ~Impl();

    void connect();
    PublishStats run();

private:
    enum class State { down, connecting, awaiting_connack, up, closed };
    struct InFlight {
        std::uint16_t id;
        bool acked;
        std::uint32_t device;
        std::int64_t ts_ms;
        Clock::time_point sent_at;
    };
    struct Connection {
        wire::Login login;
        std::size_t first_device = 0, end_device = 0;
        std::uint64_t published = 0;  // as fast as the window allows: readings handed out so far
        int fd = -1;
        State state = State::down;
        bool concluded = false;      // came up, or failed, at least once
        bool writable_wait = false;  // EPOLLOUT requested
        bool dirty = false;          // has bytes to write this round
        std::string out;             // bytes for the socket from out_at on
        std::size_t out_at = 0;
        std::string held;            // publishes made while down, sent after the CONNACK
        std::size_t held_count = 0;  // the newest entries of the window are those held
        std::string in;
        std::deque<InFlight> window;
        std::uint16_t next_id = 1;
        Clock::time_point attempt_at{}, last_out{}, last_in{};
        Clock::duration backoff = kReconnectMin;
    };
    struct Retry {
        Clock::time_point at;
        std::size_t connection;
        bool operator>(const Retry& other) const { return at > other.at; }
    };

    // One pass of the loop: connects that are due, events for up to `wait`, pending writes.
    void turn(Clock::time_point now, Clock::duration wait);
    void start_connects(Clock::time_point now);
    void begin_connect(std::size_t index, Clock::time_point now);
    void on_event(std::size_t index, std::uint32_t events, Clock::time_point now);
    void on_tcp_connected(Connection& c, Clock::time_point now);
    void read_from(Connection& c, Clock::time_point now);
    void on_packet(Connection& c, const wire::Packet& p, Clock::time_point now);
    void on_puback(Connection& c, std::uint16_t id);
    void flush(Connection& c, Clock::time_point now);
    void flush_dirty(Clock::time_point now);
    void watch_writable(Connection& c, bool on);
    void fail(Connection& c, std::string_view why, Clock::time_point now, bool retry = true);
    // Every publish the connection holds or has out counts failed: it will not confirm them.
    void drop_window(Connection& c, const std::string& why);
    void housekeeping(Clock::time_point now);
    bool publish(std::size_t device, Clock::time_point now);  // false: counted failed
    void fill_windows(Clock::time_point now);                 // rate 0
    bool quotas_done();
    void settle_front(Connection& c);
    void mark_dirty(Connection& c);
    void note_failure(std::string_view what, std::uint64_t count = 1);
    bool stopping(int level = 1) const { return stop_.load(std::memory_order_relaxed) >= level; }
    std::size_t in_flight() const;

    PublishOptions options_;
    Endpoint endpoint_;
    addrinfo* address_ = nullptr;
    std::vector<Connection> connections_;
    std::vector<std::uint32_t> connection_of_;  // device -> connection
    DeviceFeed feed_;
    AckLines acks_;
    const StopRequest& stop_;
    int epoll_ = -1;
    std::priority_queue<Retry, std::vector<Retry>, std::greater<>> retries_;
    double connect_tokens_ = 1;
    Clock::time_point tokens_at_{};
    std::vector<std::size_t> dirty_;
    std::vector<std::size_t> ready_;  // rate 0: connections that may have room again
    std::vector<char> read_buffer_;
    std::minstd_rand jitter_{std::random_device{}()};
    Clock::time_point next_housekeeping_{};
    Clock::time_point last_warning_{};
    std::uint64_t unreported_failures_ = 0;
    std::string last_failure_;
    std::string last_connect_error_;  // for the error when no connection came up
    PublishStats stats_;
};

ConnectionFleet::Impl::Impl(const PublishOptions& options, std::vector<wire::Login> logins,
                            std::vector<std::vector<DeviceSpec>> devices, AckLog* acked_log, const StopRequest& stop)
    : options_(options),
      feed_(options.feed,
            [&] {
                std::vector<DeviceSpec> all;
                for (auto& slice : devices)
                    all.insert(all.end(), std::make_move_iterator(slice.begin()), std::make_move_iterator(slice.end()));
                return all;
            }()),
      acks_(acked_log),
      stop_(stop),
      read_buffer_(kReadChunk) {
    auto endpoint = parse_tcp_uri(options.uri);
    if (!endpoint) throw std::runtime_error("--connections takes a tcp:// or mqtt:// URI, not '" + options.uri + "'");
    endpoint_ = *endpoint;
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    if (int rc = ::getaddrinfo(endpoint_.host.c_str(), endpoint_.port.c_str(), &hints, &address_); rc != 0)
        throw std::runtime_error("cannot resolve " + endpoint_.host + ": " + ::gai_strerror(rc));

    // Each connection is a file descriptor: take what the hard limit allows, and say so if short.
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    const auto need = static_cast<rlim_t>(logins.size() + kSpareDescriptors);
    if (limit.rlim_cur < need && limit.rlim_max != limit.rlim_cur) {
        limit.rlim_cur = std::min(need, limit.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur < need)
        throw std::runtime_error(std::to_string(logins.size()) + " connections need " + std::to_string(need) +
                                 " file descriptors; the limit is " + std::to_string(limit.rlim_cur) + " (ulimit -n)");
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::runtime_error(std::string("epoll: ") + std::strerror(errno));

    connections_.resize(logins.size());
    std::size_t device = 0;
    for (std::size_t i = 0; i < logins.size(); ++i) {
        auto& c = connections_[i];
        c.login = std::move(logins[i]);
        c.first_device = device;
        device += i < devices.size() ? devices[i].size() : 0;
        c.end_device = device;
        for (auto d = c.first_device; d < c.end_device; ++d) connection_of_.push_back(static_cast<std::uint32_t>(i));
    }
}

ConnectionFleet::Impl::~Impl() {
    for (auto& c : connections_)
        if (c.fd >= 0) ::close(c.fd);
    if (epoll_ >= 0) ::close(epoll_);
    if (address_) ::freeaddrinfo(address_);
}

void ConnectionFleet::Impl::note_failure(std::string_view what, std::uint64_t count) {
    if (count == 0) return;
    unreported_failures_ += count;
    last_failure_.assign(what);
    const auto now = Clock::now();
    if (now - last_warning_ < kWarnInterval) return;
    logger()->warn("{} message(s) failed, last: {}", unreported_failures_, last_failure_);
    unreported_failures_ = 0;
    last_warning_ = now;
}

std::size_t ConnectionFleet::Impl::in_flight() const {
    std::size_t n = 0;
    for (const auto& c : connections_) n += c.window.size();
    return n;
}

void ConnectionFleet::Impl::start_connects(Clock::time_point now) {
    const double rate = std::max(1.0, options_.connect_rate);
    const double burst = std::max(1.0, rate / 10);
    connect_tokens_ = std::min(burst, connect_tokens_ + std::chrono::duration<double>(now - tokens_at_).count() * rate);
    tokens_at_ = now;
    while (!retries_.empty() && retries_.top().at <= now && connect_tokens_ >= 1) {
        const auto index = retries_.top().connection;
        retries_.pop();
        if (connections_[index].state != State::down) continue;
        connect_tokens_ -= 1;
        begin_connect(index, now);
    }
}

void ConnectionFleet::Impl::begin_connect(std::size_t index, Clock::time_point now) {
    auto& c = connections_[index];
    c.attempt_at = now;
    c.fd = ::socket(address_->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return fail(c, std::strerror(errno), now);
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = index;
    c.writable_wait = true;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) return fail(c, std::strerror(errno), now);
    c.state = State::connecting;
    if (::connect(c.fd, address_->ai_addr, address_->ai_addrlen) != 0 && errno != EINPROGRESS)
        return fail(c, std::strerror(errno), now);
}

void ConnectionFleet::Impl::on_tcp_connected(Connection& c, Clock::time_point now) {
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (error != 0) return fail(c, std::strerror(error), now);
    c.state = State::awaiting_connack;
    c.in.clear();
    c.out.clear();
    c.out_at = 0;
    wire::append_connect(c.out, c.login, kKeepAliveS);
    c.last_in = now;
    flush(c, now);
}

void ConnectionFleet::Impl::watch_writable(Connection& c, bool on) {
    if (c.writable_wait == on || c.fd < 0) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = static_cast<std::uint64_t>(&c - connections_.data());
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    c.writable_wait = on;
}

void ConnectionFleet::Impl::mark_dirty(Connection& c) {
    if (c.dirty) return;
    c.dirty = true;
    dirty_.push_back(static_cast<std::size_t>(&c - connections_.data()));
}

void ConnectionFleet::Impl::flush(Connection& c, Clock::time_point now) {
    c.dirty = false;
    if (c.fd < 0 || c.state == State::connecting) return;
    while (c.out_at < c.out.size()) {
        const auto n = ::send(c.fd, c.out.data() + c.out_at, c.out.size() - c.out_at, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return watch_writable(c, true);
            if (errno == EINTR) continue;
            return fail(c, std::strerror(errno), now);
        }
        c.out_at += static_cast<std::size_t>(n);
        c.last_out = now;
    }
    c.out.clear();
    c.out_at = 0;
    watch_writable(c, false);
}

void ConnectionFleet::Impl::flush_dirty(Clock::time_point now) {
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
        auto& c = connections_[dirty_[i]];
        if (c.dirty) flush(c, now);
    }
    dirty_.clear();
}

// The connection is gone: what it had sent is lost with it (the session was clean); what it held
// waits for the next one.
void ConnectionFleet::Impl::fail(Connection& c, std::string_view why, Clock::time_point now, bool retry) {
    const auto index = static_cast<std::size_t>(&c - connections_.data());
    if (c.fd >= 0) ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    c.writable_wait = false;
    c.dirty = false;
    c.out.clear();
    c.out_at = 0;
    c.in.clear();
    const auto sent = c.window.size() - std::min(c.held_count, c.window.size());
    stats_.failed += sent;
    c.window.erase(c.window.begin(), c.window.begin() + static_cast<std::ptrdiff_t>(sent));
    note_failure(std::string(why) + " (" + c.login.client_id + ")", sent);
    if (sent == 0) logger()->debug("{}: {}", c.login.client_id, why);
    if (c.state == State::connecting || c.state == State::awaiting_connack)
        last_connect_error_ = std::string(why) + " (" + c.login.client_id + ")";
    c.concluded = true;
    if (!retry || c.state == State::closed) {
        c.state = State::closed;
        return;
    }
    c.state = State::down;
    // Full jitter over [backoff/2, backoff]: a broker restart does not bring every device back at once.
    std::uniform_int_distribution<long long> spread(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(c.backoff).count() / 2);
    const auto wait = c.backoff - std::chrono::milliseconds(spread(jitter_));
    retries_.push(Retry{now + wait, index});
    c.backoff = std::min<Clock::duration>(c.backoff * 2, kBackoffMax);
}

void ConnectionFleet::Impl::drop_window(Connection& c, const std::string& why) {
    stats_.failed += c.window.size();
    note_failure(why, c.window.size());
    c.window.clear();
    c.held.clear();
    c.held_count = 0;
}

void ConnectionFleet::Impl::on_event(std::size_t index, std::uint32_t events, Clock::time_point now) {
    auto& c = connections_[index];
    if (c.fd < 0) return;
    if (c.state == State::connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_tcp_connected(c, now);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) read_from(c, now);
    if (c.fd >= 0 && (events & EPOLLOUT)) flush(c, now);
}

void ConnectionFleet::Impl::read_from(Connection& c, Clock::time_point now) {
    for (;;) {
        const auto n = ::recv(c.fd, read_buffer_.data(), read_buffer_.size(), 0);
        if (n == 0)
            return fail(c, c.state == State::up ? "closed by the broker" : "closed by the broker before CONNACK", now);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            return fail(c, std::strerror(errno), now);
        }
        c.last_in = now;
        c.in.append(read_buffer_.data(), static_cast<std::size_t>(n));
        std::size_t at = 0;
        for (;;) {
            wire::Packet packet;
            std::size_t used = 0;
            const auto parsed = wire::next_packet(std::string_view(c.in).substr(at), packet, used);
            if (parsed == wire::Parse::incomplete) break;
            if (parsed == wire::Parse::malformed) return fail(c, "malformed packet from the broker", now);
            at += used;
            on_packet(c, packet, now);
            if (c.fd < 0) return;
        }
        c.in.erase(0, at);
        if (static_cast<std::size_t>(n) < read_buffer_.size()) break;
    }
}

void ConnectionFleet::Impl::on_packet(Connection& c, const wire::Packet& p, Clock::time_point now) {
    switch (p.type) {
        case wire::connack: {
            if (c.state != State::awaiting_connack) return fail(c, "unexpected CONNACK", now);
            const int code = wire::connack_code(p);
            if (code != 0) {
                // Held publishes of a device the broker refuses cannot go out: failed, not kept.
                const std::string why = "refused: " + std::string(wire::connack_reason(code));
                drop_window(c, why + " (" + c.login.client_id + ")");
                // Only "server unavailable" may pass; a refused login or id stays refused this run.
                return fail(c, why, now, code == 3);
            }
            c.state = State::up;
            c.concluded = true;
            c.backoff = kReconnectMin;
            c.out.append(c.held);
            c.held.clear();
            c.held_count = 0;
            for (auto& m : c.window) {
                m.sent_at = now;
                m.acked = options_.qos == 0;  // at QoS 0 handing them to the socket is all there is
            }
            while (!c.window.empty() && c.window.front().acked) settle_front(c);
            mark_dirty(c);
            ready_.push_back(static_cast<std::size_t>(&c - connections_.data()));
            return;
        }
        case wire::puback: return on_puback(c, wire::puback_id(p));
        default: return;  // PINGRESP, or anything a publisher does not use
    }
}

void ConnectionFleet::Impl::on_puback(Connection& c, std::uint16_t id) {
    // Acknowledgements come in publish order; a late one is found further in.
    for (auto& m : c.window) {
        if (m.id != id || m.acked) continue;
        m.acked = true;
        break;
    }
    const bool had_room = c.window.size() < static_cast<std::size_t>(options_.max_inflight);
    while (!c.window.empty() && c.window.front().acked) settle_front(c);
    if (!had_room) ready_.push_back(static_cast<std::size_t>(&c - connections_.data()));
}

void ConnectionFleet::Impl::settle_front(Connection& c) {
    const auto& m = c.window.front();
    if (m.acked) {
        ++stats_.acked;
        acks_.add(feed_.spec(m.device).device_id, m.ts_ms);
    } else {
        ++stats_.failed;
    }
    c.window.pop_front();
    c.held_count = std::min(c.held_count, c.window.size());
}

bool ConnectionFleet::Impl::publish(std::size_t device, Clock::time_point now) {
    auto& c = connections_[connection_of_[device]];
    ++stats_.sent;
    const bool up = c.state == State::up;
    if (c.state == State::closed || c.window.size() >= static_cast<std::size_t>(options_.max_inflight) ||
        (!up && c.held.size() >= kHeldBytes)) {
        ++stats_.failed;
        note_failure(c.state == State::closed ? "connection closed"
                                              : (up ? "in-flight window full" : "not connected, buffer full"));
        return false;
    }
    const auto reading = feed_.next(device);
    const std::uint16_t id = c.next_id;
    c.next_id = static_cast<std::uint16_t>(c.next_id == std::numeric_limits<std::uint16_t>::max() ? 1 : c.next_id + 1);
    wire::append_publish(up ? c.out : c.held, feed_.topic(device), reading.payload, options_.qos, id);
    if (up) {
        mark_dirty(c);
    } else {
        ++c.held_count;
    }
    if (options_.qos == 0 && up) {  // at QoS 0 the socket is the only confirmation there is
        ++stats_.acked;
        acks_.add(feed_.spec(device).device_id, reading.ts_ms);
        return true;
    }
    c.window.push_back(InFlight{id, false, static_cast<std::uint32_t>(device), reading.ts_ms, now});
    return true;
}

// Rate 0: every connection that may have room publishes its devices in turn until its window is
// full or each of them reached --count.
void ConnectionFleet::Impl::fill_windows(Clock::time_point now) {
    const auto max = static_cast<std::size_t>(options_.max_inflight);
    std::vector<std::size_t> ready;
    ready.swap(ready_);
    for (auto index : ready) {
        auto& c = connections_[index];
        const std::size_t devices = c.end_device - c.first_device;
        if (devices == 0) continue;
        const std::uint64_t limit =
            options_.count > 0 ? options_.count * devices : std::numeric_limits<std::uint64_t>::max();
        while (c.state == State::up && c.window.size() < max && c.published < limit) {
            publish(c.first_device + c.published % devices, now);
            ++c.published;
        }
    }
}

// Rate 0 with --count: whether every connection published its devices' readings. Those of a
// connection closed for good (its login refused) are counted failed, all at once.
bool ConnectionFleet::Impl::quotas_done() {
    bool done = true;
    for (auto& c : connections_) {
        const std::uint64_t quota = options_.count * (c.end_device - c.first_device);
        if (c.published >= quota) continue;
        if (c.state != State::closed) {
            done = false;
            continue;
        }
        stats_.sent += quota - c.published;
        stats_.failed += quota - c.published;
        c.published = quota;
    }
    return done;
}

void ConnectionFleet::Impl::housekeeping(Clock::time_point now) {
    if (now < next_housekeeping_) return;
    next_housekeeping_ = now + kHousekeeping;
    for (auto& c : connections_) {
        if (c.state == State::connecting || c.state == State::awaiting_connack) {
            if (now - c.attempt_at > kConnectTimeout) fail(c, "no answer to CONNECT within 10 s", now);
            continue;
        }
        if (c.state != State::up) continue;
        while (!c.window.empty() && now - c.window.front().sent_at > kAckTimeout) {
            note_failure("no acknowledgement within the timeout");
            settle_front(c);
        }
        if (now - c.last_in > std::chrono::seconds(kKeepAliveS) * 3 / 2) {
            fail(c, "no answer from the broker within the keep-alive", now);
            continue;
        }
        if (now - c.last_out >= std::chrono::seconds(kKeepAliveS) / 2) {
            wire::append_pingreq(c.out);
            mark_dirty(c);
        }
    }
    acks_.flush(now, false);
}

void ConnectionFleet::Impl::turn(Clock::time_point now, Clock::duration wait) {
    start_connects(now);
    flush_dirty(now);
    if (!retries_.empty() && retries_.top().at > now) wait = std::min(wait, retries_.top().at - now);
    if (!retries_.empty() && retries_.top().at <= now) wait = std::min<Clock::duration>(wait, 1ms);  // rate-limited
    epoll_event events[256];
    const int timeout =
        static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(std::max<Clock::duration>(wait, 0ms)).count());
    const int n = ::epoll_wait(epoll_, events, 256, timeout);
    now = Clock::now();
    for (int i = 0; i < n; ++i) on_event(static_cast<std::size_t>(events[i].data.u64), events[i].events, now);
    housekeeping(now);
}

void ConnectionFleet::Impl::connect() {
    const auto started = Clock::now();
    tokens_at_ = started;
    for (std::size_t i = 0; i < connections_.size(); ++i) retries_.push(Retry{started, i});
    auto concluded = [&] {
        return std::all_of(connections_.begin(), connections_.end(), [](const Connection& c) { return c.concluded; });
    };
    // Each connection's first attempt starts within n / rate seconds and ends within the timeout.
    const auto deadline = started + kConnectTimeout +
                          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                              static_cast<double>(connections_.size()) / std::max(1.0, options_.connect_rate)));
    while (!concluded() && !stopping() && Clock::now() < deadline) turn(Clock::now(), kMaxWait);
    const auto up = std::count_if(connections_.begin(), connections_.end(),
                                  [](const Connection& c) { return c.state == State::up; });
    if (up == 0) {
        throw std::runtime_error("cannot connect to " + options_.uri + ": " +
                                 (last_connect_error_.empty() ? std::string("no answer") : last_connect_error_));
    }
    const auto seconds = std::chrono::duration<double>(Clock::now() - started).count();
    const auto refused = std::count_if(connections_.begin(), connections_.end(),
                                       [](const Connection& c) { return c.state == State::closed; });
    if (refused > 0)
        logger()->warn("{} of {} connections refused for good, last: {}", refused, connections_.size(),
                       last_connect_error_);
    if (static_cast<std::size_t>(up + refused) < connections_.size())
        logger()->warn("{} of {} connections up after {:.1f} s; the others keep trying", up, connections_.size(),
                       seconds);
    else
        logger()->info("{} connections up in {:.1f} s", up, seconds);
}

PublishStats ConnectionFleet::Impl::run() {
    try {
        const std::size_t n = feed_.size();
        auto start = Clock::now();
        constexpr auto kUnlimited = std::numeric_limits<std::uint64_t>::max();
        const std::uint64_t limit = options_.count > 0 && options_.count < kUnlimited / std::max<std::size_t>(n, 1)
                                        ? options_.count * n
                                        : kUnlimited;
        const auto end = options_.duration_s > 0 ? start + std::chrono::duration_cast<Clock::duration>(
                                                               std::chrono::duration<double>(options_.duration_s))
                                                 : Clock::time_point::max();
        const double interval_s = options_.rate > 0 ? 1.0 / (options_.rate * static_cast<double>(n)) : 0.0;
        auto due = [&](std::uint64_t m) {
            return start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(static_cast<double>(m) * interval_s));
        };
        if (interval_s == 0)
            for (std::size_t i = 0; i < connections_.size(); ++i) ready_.push_back(i);

        // The schedule: message m is due at start + m/(rate*n), device m % n, as the
        // client-per-thread engine spreads them; late ones are caught up at once.
        std::uint64_t m = 0;
        for (;;) {
            auto now = Clock::now();
            if (stopping() || now >= end) break;
            if (interval_s > 0) {
                if (m >= limit) break;
                while (m < limit && due(m) <= now && due(m) < end) publish(static_cast<std::size_t>(m++ % n), now);
                if (m < limit && due(m) >= end) break;
                turn(now, m < limit ? std::min<Clock::duration>(due(m) - now, kMaxWait) : kMaxWait);
            } else {
                fill_windows(now);
                if (options_.count > 0 && quotas_done()) break;
                turn(now, kMaxWait);
            }
        }

        // Drain: wait for what the connected ones have out; a connection that is down now will not
        // confirm anything of this run.
        const auto deadline = Clock::now() + options_.drain_timeout;
        for (;;) {
            auto now = Clock::now();
            for (auto& c : connections_) {
                if (c.state == State::up || c.window.empty()) continue;
                drop_window(c, "connection down at the end of the run");
                if (c.state != State::closed) fail(c, "closed at the end of the run", now, false);
            }
            if (in_flight() == 0 || now >= deadline || stopping(2)) break;
            turn(now, kMaxWait);
        }
        if (const auto left = in_flight(); left > 0) {
            logger()->warn("{} message(s) still unconfirmed, giving up on them", left);
            stats_.failed += left;
            for (auto& c : connections_) c.window.clear();
        }
        for (auto& c : connections_) {
            if (c.state != State::up) continue;
            wire::append_disconnect(c.out);
            flush(c, Clock::now());
        }
    } catch (const std::exception& e) {
        logger()->error("publishing stopped: {}", e.what());
    }
    acks_.flush(Clock::now(), true);
    if (unreported_failures_ > 0) logger()->warn("{} message(s) failed, last: {}", unreported_failures_, last_failure_);
    return stats_;
}

ConnectionFleet::ConnectionFleet(const PublishOptions& options, std::vector<wire::Login> logins,
                                 std::vector<std::vector<DeviceSpec>> devices, AckLog* acked_log,
                                 const StopRequest& stop)
    : impl_(std::make_unique<Impl>(options, std::move(logins), std::move(devices), acked_log, stop)) {}

ConnectionFleet::~ConnectionFleet() = default;

void ConnectionFleet::connect() { impl_->connect(); }

PublishStats ConnectionFleet::run() { return impl_->run(); }

}  // namespace energyhub::sim
