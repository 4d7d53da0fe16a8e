#pragma once
// sd_notify for Type=notify units: READY once connected, WATCHDOG while the main loop turns,
// STOPPING on shutdown. Without systemd (no NOTIFY_SOCKET) every call does nothing.
#include <chrono>
#include <string>

namespace energyhub::systemd {

void ready(const std::string& status);
void stopping();
void watchdog();
// How often to call watchdog(): half of WatchdogSec, or zero when the unit has no watchdog.
std::chrono::milliseconds watchdog_interval();

}  // namespace energyhub::systemd
