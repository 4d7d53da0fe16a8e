#pragma once
// The hub's /metrics page and health components.
#include <cstdint>
#include <string>

#include "http/health.hpp"
#include "mqtt/mqtt_client.hpp"
#include "pipeline/ingest_metrics.hpp"
#include "pipeline/spool.hpp"
#include "service/outbox.hpp"

namespace energyhub {

// `subscription_qos`: what the hub subscribed with after its start-up check (mqtt/ack_check.hpp).
std::string render_hub_metrics(const IngestMetrics& m, const SpoolStats& spool, const MqttClient& mqtt,
                               const Outbox& outbox, int subscription_qos);

void register_hub_health(HealthRegistry& health, const IngestMetrics& m, const Spool& spool, const MqttClient& mqtt,
                         bool redis_configured);

}  // namespace energyhub
