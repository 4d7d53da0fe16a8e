#include "mqtt/ack_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include "mqtt/session_store.hpp"

namespace energyhub {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::uint16_t kPacketId = 7;
constexpr std::size_t kMaxPacket = 64 * 1024;  // a CONNECT or SUBSCRIBE of ours is far smaller

// MQTT control packet types (high nibble of the first byte).
enum : std::uint8_t {
    kConnect = 1,
    kConnack = 2,
    kPublish = 3,
    kPuback = 4,
    kPubrec = 5,
    kPubrel = 6,
    kPubcomp = 7,
    kSubscribe = 8,
    kSuback = 9,
    kPingreq = 12,
    kPingresp = 13,
    kDisconnect = 14,
};

struct Packet {
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
    std::vector<std::uint8_t> body;
};

// Reads exactly n bytes before the deadline; false on timeout, close or error.
bool read_exact(int fd, std::uint8_t* out, std::size_t n, SteadyClock::time_point deadline,
                const std::atomic<bool>& stop) {
    while (n > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
        if (left <= 0 || stop) return false;
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 50)));
        if (ready < 0 && errno != EINTR) return false;
        if (ready <= 0) continue;
        const ssize_t got = ::recv(fd, out, n, 0);
        if (got <= 0) return false;
        out += got;
        n -= static_cast<std::size_t>(got);
    }
    return true;
}

bool read_packet(int fd, Packet& packet, SteadyClock::time_point deadline, const std::atomic<bool>& stop) {
    std::uint8_t first = 0;
    if (!read_exact(fd, &first, 1, deadline, stop)) return false;
    std::size_t length = 0;
    for (int shift = 0;; shift += 7) {
        std::uint8_t b = 0;
        if (shift > 21 || !read_exact(fd, &b, 1, deadline, stop)) return false;
        length |= static_cast<std::size_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) break;
    }
    if (length > kMaxPacket) return false;
    packet.type = static_cast<std::uint8_t>(first >> 4);
    packet.flags = static_cast<std::uint8_t>(first & 0x0f);
    packet.body.resize(length);
    return read_exact(fd, packet.body.data(), length, deadline, stop);
}

bool send_all(int fd, const std::vector<std::uint8_t>& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

std::vector<std::uint8_t> packet(std::uint8_t first, const std::vector<std::uint8_t>& body) {
    std::vector<std::uint8_t> out{first};
    std::size_t length = body.size();
    do {
        std::uint8_t b = length & 0x7f;
        length >>= 7;
        out.push_back(length > 0 ? static_cast<std::uint8_t>(b | 0x80) : b);
    } while (length > 0);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

std::uint16_t packet_id_at(const std::vector<std::uint8_t>& body, std::size_t at) {
    if (body.size() < at + 2) return 0;
    return static_cast<std::uint16_t>(body[at] << 8 | body[at + 1]);
}

std::vector<std::uint8_t> ack(std::uint8_t type, std::uint16_t id) {
    return packet(static_cast<std::uint8_t>(type << 4 | (type == kPubrel ? 2 : 0)),
                  {static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id & 0xff)});
}

std::vector<std::uint8_t> the_message() {
    const std::string_view topic = AckProbeServer::kTopic;
    std::string body;
    body += '\0';
    body += static_cast<char>(topic.size());
    body += topic;
    body += static_cast<char>(kPacketId >> 8);
    body += static_cast<char>(kPacketId & 0xff);
    body += "ack-check";
    return packet(kPublish << 4 | 0x02, std::vector<std::uint8_t>(body.begin(), body.end()));  // QoS 1
}

}  // namespace

AckProbeServer::AckProbeServer(std::function<bool()> callback_returned)
    : callback_returned_(std::move(callback_returned)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("ack check: cannot create a socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 1) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(listen_fd_);
        throw std::runtime_error("ack check: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
}

AckProbeServer::~AckProbeServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
}

AckCheckResult AckProbeServer::wait(std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (!done_ && SteadyClock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (!result_.ack_seen && result_.detail.empty())
        result_.detail = "no PUBACK within " + std::to_string(timeout.count()) + " ms";
    return result_;
}

// One client, one message: answer what it sends until it acknowledges ours (or leaves).
void AckProbeServer::serve() {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(30);
    pollfd p{listen_fd_, POLLIN, 0};
    while (!stop_ && ::poll(&p, 1, 50) == 0) {}
    if (stop_) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    Packet in;
    bool sent = false;
    while (!stop_ && read_packet(fd, in, deadline, stop_)) {
        bool ok = true;
        switch (in.type) {
            case kConnect: ok = send_all(fd, packet(kConnack << 4, {0, 0})); break;
            case kSubscribe: {
                // Grant each filter the QoS asked for, then send the message once.
                std::vector<std::uint8_t> body{in.body.size() >= 2 ? in.body[0] : std::uint8_t{0},
                                               in.body.size() >= 2 ? in.body[1] : std::uint8_t{0}};
                for (std::size_t at = 2; at + 2 <= in.body.size();) {
                    const std::size_t n = packet_id_at(in.body, at);
                    at += 2 + n;
                    if (at >= in.body.size()) break;
                    body.push_back(in.body[at++] & 0x03);
                }
                ok = send_all(fd, packet(kSuback << 4, body));
                if (ok && !sent) ok = sent = send_all(fd, the_message());
                break;
            }
            case kPublish: {  // the client's own status message
                const int qos = (in.flags >> 1) & 0x03;
                const std::size_t id_at = 2 + packet_id_at(in.body, 0);
                if (qos == 1) ok = send_all(fd, ack(kPuback, packet_id_at(in.body, id_at)));
                if (qos == 2) ok = send_all(fd, ack(kPubrec, packet_id_at(in.body, id_at)));
                break;
            }
            case kPubrel: ok = send_all(fd, ack(kPubcomp, packet_id_at(in.body, 0))); break;
            case kPuback:
                if (packet_id_at(in.body, 0) == kPacketId) {
                    result_.callback_returned = callback_returned_();
                    result_.ack_seen = true;
                    result_.detail = result_.callback_returned ? "PUBACK after the callback returned"
                                                               : "PUBACK while the callback was still running";
                    done_ = true;
                }
                break;
            case kPingreq: ok = send_all(fd, packet(kPingresp << 4, {})); break;
            case kDisconnect: ok = false; break;
            default: break;
        }
        if (!ok || done_) break;
    }
    if (!done_ && result_.detail.empty()) result_.detail = "the client left without acknowledging the message";
    ::close(fd);
    done_ = true;
}

int safe_subscription_qos(int configured, const std::function<AckCheckResult()>& check) {
    if (configured != 1) return configured;
    const auto log = spdlog::get("hub.mqtt");
    const auto result = check();
    if (result.after_callback()) {
        log->info("this Paho acknowledges a QoS-1 message after the callback returned: subscribing with QoS 1");
        return 1;
    }
    log->error(
        "this Paho does not acknowledge a QoS-1 message after the callback returned ({}): subscribing with "
        "QoS 2 instead, so no acknowledged reading can be lost in a crash (the broker must have "
        "upgrade_outgoing_qos true)",
        result.detail);
    return 2;
}

AckCheckResult check_ack_after_callback(const MqttConfig& config, const std::string& session_dir,
                                        std::chrono::milliseconds hold) {
    std::atomic<bool> returned{false};
    AckProbeServer server([&] { return returned.load(); });
    AckCheckResult result;
    {
        // The hub's receive path without its logging: Paho with the session store, a message callback.
        SessionStore store(session_dir);
        mqtt::async_client client(server.uri(), config.client_id + "-ack-check",
                                  mqtt::create_options(MQTTVERSION_3_1_1), &store);
        client.set_message_callback([&](mqtt::const_message_ptr message) {
            if (message->get_topic() != AckProbeServer::kTopic) return;
            std::this_thread::sleep_for(hold);  // the spool write, made long enough to see
            returned = true;
        });
        try {
            auto options = mqtt::connect_options_builder()
                               .clean_session(false)
                               .connect_timeout(std::chrono::seconds(5))
                               .finalize();
            client.connect(options)->wait();
            client.subscribe(AckProbeServer::kTopic, 1)->wait();
            result = server.wait(hold + std::chrono::seconds(5));
        } catch (const mqtt::exception& e) {
            result.detail = std::string("cannot reach the probe server: ") + e.what();
        }
        try {
            if (client.is_connected()) client.disconnect()->wait_for(std::chrono::milliseconds(500));
        } catch (const mqtt::exception&) {  // the probe server hangs up once it has its answer
        }
    }
    std::error_code ignored;
    std::filesystem::remove_all(session_dir, ignored);
    return result;
}

}  // namespace energyhub
