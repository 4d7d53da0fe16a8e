#pragma once
// Named loggers per component (hub.mqtt, hub.store, ...), all writing one line per event to
// stdout. Under systemd (JOURNAL_STREAM set) the journal adds the time, so we do not.
#include <string>

namespace energyhub {

// Creates the loggers; safe to call again (e.g. on SIGHUP) to change the level.
void setup_logging(const std::string& level);

}  // namespace energyhub
