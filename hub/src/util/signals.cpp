#include "util/signals.hpp"

#include <pthread.h>
#include <unistd.h>

namespace energyhub {

ShutdownSignals::ShutdownSignals() {
    sigemptyset(&set_);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set_, s);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

const char* ShutdownSignals::wait(const std::function<void()>& on_reload) {
    for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0) continue;
        if (sig == SIGHUP) {
            if (on_reload) on_reload();
            continue;
        }
        return sig == SIGTERM ? "SIGTERM" : "SIGINT";
    }
}

void ShutdownSignals::request_shutdown() { kill(getpid(), SIGTERM); }

}  // namespace energyhub
