#include "service/outbox.hpp"

namespace energyhub {

Outbox::Outbox(MessageSink& downstream, std::size_t capacity) : downstream_(downstream), capacity_(capacity) {
    thread_ = std::thread([this] { run(); });
}

Outbox::~Outbox() { close(std::chrono::milliseconds(0)); }

void Outbox::publish(const std::string& topic, std::string_view payload, int qos, bool retained) {
    enqueue(queue_, {topic, std::string(payload), qos, retained});
}

void Outbox::publish_event(const std::string& topic, std::string_view payload) {
    enqueue(events_, {topic, std::string(payload), 1, false});
}

void Outbox::enqueue(std::deque<Message>& queue, Message m) {
    {
        std::lock_guard lock(mutex_);
        if (closing_) return;
        if (queue.size() >= capacity_) {
            queue.pop_front();
            ++dropped_;
        }
        queue.push_back(std::move(m));
    }
    ready_.notify_one();
}

std::size_t Outbox::backlog() const {
    std::lock_guard lock(mutex_);
    return events_.size() + queue_.size();
}

void Outbox::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ready_.wait(lock, [&] { return closing_ || !events_.empty() || !queue_.empty(); });
        auto& from = !events_.empty() ? events_ : queue_;
        if (from.empty()) return;  // closing, and everything sent
        Message m = std::move(from.front());
        from.pop_front();
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
            if ((events_.empty() && queue_.empty()) || std::chrono::steady_clock::now() >= deadline) {
                dropped_ += events_.size() + queue_.size();
                events_.clear();
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
