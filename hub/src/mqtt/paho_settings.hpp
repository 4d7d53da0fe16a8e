#pragma once
// What Paho needs from the mqtt section (URI spelling, TLS) and of every process (its trace), shared
// by the daemons, check-config, firmware-sim and the bench.
#include <functional>
#include <string>

#include <mqtt/connect_options.h>
#include <mqtt/create_options.h>
#include <mqtt/ssl_options.h>

#include "config/config.hpp"

namespace energyhub {

// Verification is on unless tls.verify is false: the broker's certificate must chain to ca_file
// (or the system's authorities) and name the host of the URI. `on_error` gets each TLS error,
// already explained (which file was used to check what).
mqtt::ssl_options paho_ssl_options(const TlsConfig& tls, std::function<void(const std::string&)> on_error);

// Paho C records every packet and function call of its clients into an in-memory trace that
// nothing reads unless its debugging switch, the MQTT_C_CLIENT_TRACE variable, is set: a message
// formatted, copied and locked per packet, about a tenth of a busy hub's CPU per reading. This
// keeps its errors only, unless that variable is set. Process-wide: once, before the first client.
void quiet_paho_trace();

// How a daemon's client is created: MQTT `version`, up to `max_buffered` messages held while the
// broker is away, and QoS-0 messages kept out of the session store. Paho writes every message it is
// given there and removes it once sent; a state (QoS 0, a second per device, superseded by the
// next) needs no place in what a crash leaves, while alerts and announcements (QoS 1) keep theirs.
mqtt::create_options daemon_create_options(int version, int max_buffered);

// Paho understands tcp:// and ssl://; the mqtt:// and mqtts:// spellings users know are mapped.
std::string paho_uri(const std::string& uri);

// Where a client of `config` connects: the server and login options (the brokers of a cluster,
// user name and password, TLS) every connection of ours sets. `on_tls_error` as above.
void set_broker_options(mqtt::connect_options& options, const MqttConfig& config,
                        std::function<void(const std::string&)> on_tls_error);

}  // namespace energyhub
