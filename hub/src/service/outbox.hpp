#pragma once
// Messages the ingest worker sends (state, alerts, dead letters) go through this queue and a
// thread of their own, so the worker never waits on the MQTT client: while the arrival callback
// waits for spool room, Paho's lock is held, and a worker blocked in publish() could never free
// that room. Events (alerts) overtake what is queued: a fleet's state and announcements must not
// delay them. Bounded: when full, the oldest messages are dropped and counted (alerts are also in
// the database, where the notifier reads them).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "pipeline/message_sink.hpp"

namespace energyhub {

class Outbox final : public MessageSink {
public:
    // `downstream` may block (the MQTT client, pacing itself); only the outbox's thread calls it.
    Outbox(MessageSink& downstream, std::size_t capacity);
    ~Outbox() override;

    void publish(const std::string& topic, std::string_view payload, int qos, bool retained) override;
    void publish_event(const std::string& topic, std::string_view payload) override;
    std::size_t backlog() const override;
    std::uint64_t reconnects() const override { return downstream_.reconnects(); }

    // Sends what is queued, waiting at most `timeout`, then stops the thread.
    void close(std::chrono::milliseconds timeout);

    std::uint64_t dropped() const { return dropped_.load(); }

private:
    struct Message {
        std::string topic;
        std::string payload;
        int qos;
        bool retained;
    };
    void run();
    void enqueue(std::deque<Message>& queue, Message m);

    MessageSink& downstream_;
    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Message> events_;  // sent first
    std::deque<Message> queue_;
    bool closing_ = false;
    std::atomic<std::uint64_t> dropped_{0};
    std::thread thread_;
};

}  // namespace energyhub
