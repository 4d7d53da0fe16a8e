#pragma once
// Paho's session store as one append-only log per client instead of Paho's default of one file
// per message. Each put or remove is copied into a mapped window of the log before it returns
// (util/mapped_appender.hpp: no syscall per record), so the state survives a kill of the process;
// the log is cut back to nothing whenever the store is empty, and rewritten when it grows much
// larger than what it holds.
//
// Paho keeps an incoming QoS-2 message here from before it answers PUBREC until the application
// callback has returned: with this store a hub crash can lose no message the broker handed over.
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include <mqtt/iclient_persistence.h>

#include "util/mapped_appender.hpp"

namespace energyhub {

class SessionStore final : public mqtt::iclient_persistence {
public:
    explicit SessionStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
    ~SessionStore() override;

    void open(const mqtt::string& client_id, const mqtt::string& server_uri) override;
    void close() override;
    void clear() override;
    bool contains_key(const mqtt::string& key) override;
    mqtt::string_collection keys() const override;
    void put(const mqtt::string& key, const std::vector<mqtt::string_view>& bufs) override;
    mqtt::string get(const mqtt::string& key) const override;
    void remove(const mqtt::string& key) override;

    std::size_t size() const;

private:
    void append(char op, const std::string& key, const std::string& value);
    void rewrite();  // caller holds mutex_

    std::filesystem::path dir_;
    std::filesystem::path path_;
    mutable std::mutex mutex_;
    std::map<std::string, std::string> entries_;
    int fd_ = -1;
    MappedAppender appender_{256 << 10};  // into fd_; its end is the log's size
    std::uint64_t live_bytes_ = 0;
};

}  // namespace energyhub
