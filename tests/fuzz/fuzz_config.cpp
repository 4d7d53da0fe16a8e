// The config file as `energyhub check-config` and every daemon load it: a bad file must come back
// as a ConfigError (exit 2, one line naming file, line and key), never as another exception. A
// file it accepts must hold only finite numbers and must start the parts of the hub that read it
// without an error of their own. Input: the YAML text.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "fuzz_check.hpp"
#include "pipeline/payload_decoder.hpp"
#include "util/cron.hpp"
#include "util/listen_address.hpp"

using namespace energyhub;

namespace {

void add_numbers(const RuleLayer& layer, std::vector<double>& out) {
    if (layer.power_above && *layer.power_above) {
        out.push_back((*layer.power_above)->watts);
        out.push_back((*layer.power_above)->clear_below);
    }
    if (layer.daily_energy_above && *layer.daily_energy_above) out.push_back((*layer.daily_energy_above)->kwh);
    if (layer.spike && *layer.spike) {
        out.push_back((*layer.spike)->factor);
        out.push_back((*layer.spike)->clear_factor);
        out.push_back((*layer.spike)->min_watts);
    }
}

// The daemons compute rates, thresholds and costs with these; ".inf" is a YAML number too.
void check_numbers_are_finite(const Config& config) {
    std::vector<double> numbers = {config.mqtt.deadletter_rate, config.ollama.temperature,
                                   config.insights.tariff.per_kwh};
    for (const auto& band : config.insights.tariff.bands) numbers.push_back(band.per_kwh);
    add_numbers(config.thresholds.defaults, numbers);
    for (const auto* layers : {&config.thresholds.types, &config.thresholds.users, &config.thresholds.devices})
        for (const auto& [name, layer] : *layers) add_numbers(layer, numbers);
    for (double v : numbers) FUZZ_CHECK_CONTEXT(std::isfinite(v), std::to_string(v).c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Config config;
    try {
        config = parse_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    } catch (const ConfigError&) {
        return 0;
    }
    check_numbers_are_finite(config);
    // What the daemons build from it at start; any exception here escapes and is a finding.
    ParserLimits limits;
    limits.max_payload_bytes = config.hub.max_payload_bytes;
    limits.backfill_window_ms = config.hub.backfill_window.count();
    PayloadDecoder decoder(config.mqtt.reading_topic, config.mqtt.device_topics, limits, nullptr);
    insights::CronSchedule::parse(config.insights.schedule);
    for (const auto* listen : {&config.http.listen, &config.http.notifier_listen, &config.http.insights_listen})
        if (!listen->empty()) parse_listen_address(*listen);
    return 0;
}
