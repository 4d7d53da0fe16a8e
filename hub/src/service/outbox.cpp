#include "service/outbox.hpp"

namespace energyhub {

Outbox::Outbox(MessageSink& downstream, std::size_t capacity) : downstream_(downstream), capacity_(capacity) {
    thread_ = std::thread([this] { run(); });
}

Outbox::~Outbox() { close(std::chrono::milliseconds(0)); }

void Outbox::publish(const std::string& topic, std::string_view payload, int qos, bool retained) {
    {
        std::lock_guard lock(mutex_);
        if (closing_) return;
        if (queue_.size() >= capacity_) {
            queue_.pop_front();
            ++dropped_;
        }
        queue_.push_back({topic, std::string(payload), qos, retained});
    }
    ready_.notify_one();
}

std::size_t Outbox::backlog() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

void Outbox::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ready_.wait(lock, [&] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;  // closing, and everything sent
        Message m = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        downstream_.publish(m.topic, m.payload, m.qos, m.retained);
        lock.lock();
    }
}

void Outbox::close(std::chrono::milliseconds timeout) {
    if (!thread_.joinable()) return;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (queue_.empty() || std::chrono::steady_clock::now() >= deadline) {
                dropped_ += queue_.size();
                queue_.clear();
                closing_ = true;
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ready_.notify_one();
    thread_.join();
}

}  // namespace energyhub
