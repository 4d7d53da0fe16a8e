#pragma once
// How every daemon takes its signals: SIGTERM/SIGINT/SIGHUP are blocked in all threads (create
// this before starting any), and one thread waits for them with sigwait. No async handlers.
#include <csignal>
#include <functional>

namespace energyhub {

class ShutdownSignals {
public:
    ShutdownSignals();

    // Blocks until SIGTERM or SIGINT, calling on_reload for each SIGHUP meanwhile. Returns the
    // name of the signal that ended the wait.
    const char* wait(const std::function<void()>& on_reload);

    // Ends a wait() from inside the process (a fatal error in a worker thread).
    static void request_shutdown();

private:
    sigset_t set_;
};

}  // namespace energyhub
