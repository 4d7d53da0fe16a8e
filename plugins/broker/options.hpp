#pragma once
// The plugin's settings: the plugin_opt_* lines of mosquitto.conf, read once at plugin start into
// one validated struct. Defaults live here; an unknown or malformed option is an error that keeps
// the broker from starting, so a typo never silently weakens the policy.
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace energyhub::broker {

using Millis = std::chrono::milliseconds;

// "plugin_opt_<key>: <problem>", for the broker log.
class OptionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Options {
    std::string postgres_dsn;  // required

    bool allow_anonymous = false;
    std::string service_client_prefix = "energyhub-";  // client ids only service accounts may use; "" = none
    std::size_t max_client_ids = 1'000'000;            // client id bindings remembered (broker/client_ids.hpp)
    std::size_t max_payload = 16 * 1024;  // bytes, on device reading topics
    double rate_per_device = 0;           // messages per second per device; 0 = no limit
    double rate_burst = 10;               // bucket size

    Millis refresh_interval{1'000};       // change-log poll
    Millis full_reload_interval{60'000};  // full reload of devices and accounts; 0 = never
    Millis db_timeout{5'000};             // connect, and silence while waiting for a query

    // Topic layout (DESIGN.md defaults). Prefixes may have several levels ("energyhub/status").
    std::string reading_prefix = "energy";             // <prefix>/<device>/reading
    std::string state_prefix = "energy";               // <prefix>/<user>/<device>/state
    std::string tasmota_prefix = "tele";               // tele/<device>/SENSOR|STATE|LWT
    std::string tasmota_command_prefix = "cmnd";       // cmnd/<device>/#
    std::string shelly_gen1_prefix = "shellies";       // shellies/<device>/#
    std::string alert_prefix = "alerts";               // alerts/<user>/<device>
    std::string insights_prefix = "insights";          // insights/<user>
    std::string status_prefix = "energyhub/status";    // <prefix>/<daemon>
    std::string deadletter_topic = "energyhub/deadletter";
    std::string discovery_prefix = "homeassistant";    // empty: no discovery topics at all
    bool dashboard_discovery = true;                   // dashboards may read <discovery>/#
};

// key without the "plugin_opt_" prefix (Mosquitto strips it), value as written.
Options parse_options(const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace energyhub::broker
