#include "util/systemd.hpp"

#include <systemd/sd-daemon.h>

namespace energyhub::systemd {

void ready(const std::string& status) { sd_notify(0, ("READY=1\nSTATUS=" + status).c_str()); }

void stopping() { sd_notify(0, "STOPPING=1"); }

void watchdog() { sd_notify(0, "WATCHDOG=1"); }

std::chrono::milliseconds watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(usec / 2000);
}

}  // namespace energyhub::systemd
