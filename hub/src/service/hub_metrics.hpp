#pragma once
// The hub's /metrics page and health components.
#include <string>

#include "http/health.hpp"
#include "mqtt/mqtt_client.hpp"
#include "pipeline/spool.hpp"
#include "service/metrics.hpp"

namespace energyhub {

std::string render_hub_metrics(const IngestMetrics& m, const SpoolStats& spool, const MqttClient& mqtt);

void register_hub_health(HealthRegistry& health, const IngestMetrics& m, const Spool& spool, const MqttClient& mqtt,
                         bool redis_configured);

}  // namespace energyhub
