#pragma once
// The one configuration file, read once into typed, validated structs. Defaults live here and
// nowhere else. Every daemon reads the sections it needs; unknown keys are errors.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/insights_config.hpp"
#include "config/thresholds.hpp"
#include "domain/payload_format.hpp"

namespace energyhub {

// "file:line: key: problem" — what the operator sees, on one line.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// PEM files for one side of a TLS connection; every path given was readable when the config was
// loaded.
struct TlsConfig {
    std::string ca_file;    // whom to trust; empty: the system's certificate authorities
    std::string cert_file;  // our own certificate (a client certificate, or a listener's)
    std::string key_file;   // its private key
    bool verify = true;     // check the peer's certificate and, for a client, the host name
};

// The CA that `energyhub device add --cert` issues device certificates from (the broker's
// certificate listener trusts it).
struct DeviceCaConfig {
    std::string cert_file;
    std::string key_file;
    int days = 825;  // validity of an issued certificate
};

// What mqtt.uri points at: Mosquitto or any MQTT 3.1.1/5 broker, or the nodes of a NATS cluster
// in fleet mode (config/nats_fleet.hpp), whose rules the configuration then enforces.
enum class BrokerKind { mosquitto, nats };

struct MqttConfig {
    BrokerKind broker = BrokerKind::mosquitto;
    std::string uri = "tcp://127.0.0.1:1883";  // or several, comma-separated: nodes of one cluster
    std::string client_id = "energyhub-hub";
    std::string username;
    std::string password;
    int qos = 1;              // subscription QoS; 1 only where Paho acknowledges after the callback (checked at start)
    std::string share_group;  // non-empty: hubs subscribe as $share/<group>/<filter> and split the stream
    int receive_maximum = 0;  // 0: MQTT 3.1.1; N: MQTT 5, the broker sends at most N unacknowledged messages
    std::chrono::milliseconds keepalive{30'000};
    std::chrono::milliseconds connect_timeout{10'000};
    std::string reading_topic = "energy/+/reading";
    std::string state_prefix = "energy";
    std::string deadletter_topic = "energyhub/deadletter";
    std::string alert_prefix = "alerts";  // alerts/<user>/<device>
    std::string status_prefix = "energyhub/status";
    double deadletter_rate = 20;  // dead-letter messages per second, at most
    std::vector<DeviceTopic> device_topics;          // Tasmota, Shelly...: config/device_topics.hpp
    std::string tasmota_timezone;                    // zone of Tasmota's Time; empty: hub receive time
    std::string discovery_prefix = "homeassistant";  // Home Assistant discovery; empty: none
    TlsConfig tls;                                   // for ssl:// and mqtts:// URIs
};

// An ssl:// or mqtts:// broker URI: the connection uses mqtt.tls. (In a list, all are one or the
// other: the configuration checks it.)
bool is_tls_uri(const std::string& uri);

// The brokers of mqtt.uri: one, or the comma-separated nodes of a cluster, tried in order at every
// connect and reconnect.
std::vector<std::string> broker_uris(const std::string& uri);

struct PostgresConfig {
    std::string dsn = "postgresql:///energyhub";
    std::chrono::milliseconds retry_max{5'000};
};

struct RedisConfig {
    std::string uri;  // empty: no Redis, the hub uses PostgreSQL and its in-process cache
    std::chrono::milliseconds timeout{200};
    std::chrono::milliseconds ttl{3'600'000};
    std::chrono::milliseconds retry_interval{2'000};
};

struct HttpConfig {
    std::string listen = "127.0.0.1:8080";           // the hub: health, metrics, dashboard, API
    std::string notifier_listen = "127.0.0.1:8081";  // empty: no HTTP listener
    std::string insights_listen = "127.0.0.1:8082";
    std::string token;                                // required unless every listener is on loopback
    TlsConfig tls;  // cert_file and key_file: every listener speaks HTTPS (required off loopback)
};

struct HubConfig {
    std::string state_dir = "/var/lib/energyhub";
    std::uint64_t spool_max_bytes = 1ull << 30;
    std::uint64_t spool_segment_bytes = 16ull << 20;
    std::size_t batch_size = 5000;
    std::chrono::milliseconds flush_interval{200};
    std::chrono::milliseconds state_interval{1000};  // a device's retained state at most this often
    std::size_t cache_size = 200'000;
    std::chrono::milliseconds unknown_device_ttl{5'000};
    std::chrono::milliseconds backfill_window{7 * 86'400'000LL};
    std::size_t max_payload_bytes = 16 * 1024;
    int retention_days = 400;
    int partitions_ahead = 3;
    std::chrono::milliseconds rollup_interval{60'000};  // readings this old are folded into the hourly rollup
    std::string partition;  // "i/n": handle only the devices of partition i of n (domain/device_partition.hpp)
};

struct SmtpConfig {
    std::string url = "smtp://127.0.0.1:25";  // smtp:// (STARTTLS per `starttls`) or smtps://
    std::string from = "energyhub@localhost";
    std::string username;
    std::string password;
    std::string starttls = "optional";  // optional | required | off
    std::string ca_file;
    std::chrono::milliseconds timeout{30'000};
};

struct NotifierConfig {
    std::string client_id = "energyhub-notifier";
    std::chrono::milliseconds poll_interval{5'000};  // safety net besides the alert topic
    int max_attempts = 10;                           // then the alert is marked failed
    std::chrono::milliseconds retry_initial{5'000};
    std::chrono::milliseconds retry_max{600'000};
    int emails_per_hour = 6;  // per user; beyond it alerts wait and go out as one digest
    int digest_after = 3;     // this many pending alerts for one user go out as one digest
    std::string quiet_from;   // "22:00" in the user's time zone; empty: no quiet hours
    std::string quiet_to;     // "07:00"
};

struct LogConfig {
    std::string level = "info";
    std::string format = "text";  // text | json
};

struct Config {
    std::string source;  // the file it came from, for messages
    MqttConfig mqtt;
    PostgresConfig postgres;
    RedisConfig redis;
    HttpConfig http;
    HubConfig hub;
    LogConfig log;
    ThresholdsConfig thresholds;
    SmtpConfig smtp;
    NotifierConfig notifier;
    OllamaConfig ollama;
    InsightsConfig insights;
    DeviceCaConfig device_ca;
};

// Reads and validates a YAML file. ${VAR} and ${VAR:-default} in string values are replaced from
// the environment, so one file serves several machines. Throws ConfigError.
Config load_config(const std::string& path);
Config parse_config(const std::string& yaml_text, const std::string& source_name);

// Where a daemon says "online" (retained) and its last will says "offline":
// <status_prefix>/<daemon> under the daemon's default client id ("energyhub-<daemon>"), else
// <status_prefix>/<daemon>/<client id>, so one instance's last will never speaks for another.
// `mqtt` is the configuration the daemon connects with (its own client id).
std::string daemon_status_topic(const MqttConfig& mqtt, std::string_view daemon);

// --config, else $ENERGYHUB_CONFIG, else /etc/energyhub/energyhub.yaml.
std::string default_config_path();

}  // namespace energyhub
