#pragma once
// Named loggers per component (hub.mqtt, hub.store, ...), all writing one line per event to
// stdout, times in UTC. Under systemd (JOURNAL_STREAM set) the journal adds the time, so we do not.
#include <string>

namespace energyhub {

// Creates the loggers; safe to call again (e.g. on SIGHUP) to change the level. format: "text"
// (or journald's "<priority>" lines when run by systemd) or "json" (one object per line).
void setup_logging(const std::string& level, const std::string& format = "text");

}  // namespace energyhub
