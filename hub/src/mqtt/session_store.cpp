#include "mqtt/session_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>

#include <mqtt/exception.h>

namespace energyhub {

namespace {

// Record: op ('P' put, 'R' remove), u32 key length, u32 value length, key, value.
constexpr std::size_t kHeader = 9;
constexpr std::uint64_t kRewriteMinBytes = 16 << 20;

std::string file_name_for(const std::string& client_id) {
    std::string name;
    for (char c : client_id) name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
    return name + ".session";
}

}  // namespace

SessionStore::~SessionStore() {
    if (fd_ >= 0) {
        appender_.cut_to_end();
        ::close(fd_);
    }
}

void SessionStore::open(const mqtt::string& client_id, const mqtt::string&) {
    std::lock_guard lock(mutex_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ / file_name_for(client_id);
    entries_.clear();
    live_bytes_ = 0;
    // Replay the log; a record cut short by a crash ends it.
    std::ifstream in(path_, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t pos = 0;
    while (pos + kHeader <= data.size()) {
        char op = data[pos];
        std::uint32_t klen, vlen;
        std::memcpy(&klen, data.data() + pos + 1, 4);
        std::memcpy(&vlen, data.data() + pos + 5, 4);
        if ((op != 'P' && op != 'R') || pos + kHeader + klen + vlen > data.size()) break;
        std::string key = data.substr(pos + kHeader, klen);
        if (op == 'P') entries_[key] = data.substr(pos + kHeader + klen, vlen);
        else entries_.erase(key);
        pos += kHeader + klen + vlen;
    }
    for (const auto& [k, v] : entries_) live_bytes_ += kHeader + k.size() + v.size();
    rewrite();
}

// Writes the live entries to a new log and swaps it in atomically.
void SessionStore::rewrite() {
    appender_.detach();
    if (fd_ >= 0) ::close(fd_);
    auto tmp = path_;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        for (const auto& [k, v] : entries_) {
            char header[kHeader] = {'P'};
            auto klen = static_cast<std::uint32_t>(k.size()), vlen = static_cast<std::uint32_t>(v.size());
            std::memcpy(header + 1, &klen, 4);
            std::memcpy(header + 5, &vlen, 4);
            out.write(header, kHeader).write(k.data(), static_cast<std::streamsize>(k.size()));
            out.write(v.data(), static_cast<std::streamsize>(v.size()));
        }
        if (!out.flush()) throw mqtt::persistence_exception();
    }
    std::filesystem::rename(tmp, path_);
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) throw mqtt::persistence_exception();
    appender_.attach(fd_, live_bytes_);
}

void SessionStore::append(char op, const std::string& key, const std::string& value) {
    char header[kHeader] = {op};
    auto klen = static_cast<std::uint32_t>(key.size()), vlen = static_cast<std::uint32_t>(value.size());
    std::memcpy(header + 1, &klen, 4);
    std::memcpy(header + 5, &vlen, 4);
    const auto total = kHeader + key.size() + value.size();
    if (!appender_.reserve(total)) throw mqtt::persistence_exception();
    appender_.append({std::string_view(header, kHeader), key, value});
}

void SessionStore::close() {
    std::lock_guard lock(mutex_);
    if (fd_ >= 0) {
        appender_.cut_to_end();
        ::close(fd_);
    }
    fd_ = -1;
}

void SessionStore::clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
    live_bytes_ = 0;
    rewrite();
}

bool SessionStore::contains_key(const mqtt::string& key) {
    std::lock_guard lock(mutex_);
    return entries_.count(key) != 0;
}

mqtt::string_collection SessionStore::keys() const {
    std::lock_guard lock(mutex_);
    mqtt::string_collection out;
    for (const auto& [k, v] : entries_) out.push_back(k);
    return out;
}

void SessionStore::put(const mqtt::string& key, const std::vector<mqtt::string_view>& bufs) {
    std::string value;
    for (const auto& b : bufs) value.append(b.data(), b.size());
    std::lock_guard lock(mutex_);
    append('P', key, value);
    auto& slot = entries_[key];
    live_bytes_ = live_bytes_ - (slot.empty() ? 0 : kHeader + key.size() + slot.size()) + kHeader + key.size() + value.size();
    slot = std::move(value);
}

mqtt::string SessionStore::get(const mqtt::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) throw mqtt::persistence_exception();
    return it->second;
}

void SessionStore::remove(const mqtt::string& key) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;  // already gone: Paho removes some keys it never stored
    append('R', key, {});
    live_bytes_ -= kHeader + key.size() + it->second.size();
    entries_.erase(it);
    // Usually everything in flight is acknowledged within moments: then the log starts over.
    const auto log_bytes = appender_.end();
    if (entries_.empty() && log_bytes > (1 << 20)) {
        if (::ftruncate(fd_, 0) == 0) appender_.attach(fd_, 0);
    } else if (log_bytes > kRewriteMinBytes && log_bytes > 8 * live_bytes_) {
        rewrite();
    }
}

std::size_t SessionStore::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace energyhub
