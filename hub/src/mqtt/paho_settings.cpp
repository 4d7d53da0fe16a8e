#include "mqtt/paho_settings.hpp"

#include <cstdlib>

#include <MQTTAsync.h>

namespace energyhub {

void quiet_paho_trace() {
    if (!std::getenv("MQTT_C_CLIENT_TRACE")) MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
}

mqtt::create_options daemon_create_options(int version, int max_buffered) {
    mqtt::create_options options(version, max_buffered);
    options.set_persist_qos0(false);
    return options;
}

std::string paho_uri(const std::string& uri) {
    if (uri.rfind("mqtt://", 0) == 0) return "tcp://" + uri.substr(7);
    if (uri.rfind("mqtts://", 0) == 0) return "ssl://" + uri.substr(8);
    return uri;
}

void set_broker_options(mqtt::connect_options& options, const MqttConfig& config,
                        std::function<void(const std::string&)> on_tls_error) {
    // Paho tries the servers in order at every connect and automatic reconnect, the first one
    // being also the client's own URI.
    if (const auto uris = broker_uris(config.uri); uris.size() > 1) {
        auto servers = std::make_shared<mqtt::string_collection>();
        for (const auto& uri : uris) servers->push_back(paho_uri(uri));
        options.set_servers(servers);
    }
    if (!config.username.empty()) options.set_user_name(config.username);
    if (!config.password.empty()) options.set_password(config.password);
    if (is_tls_uri(config.uri)) options.set_ssl(paho_ssl_options(config.tls, std::move(on_tls_error)));
}

mqtt::ssl_options paho_ssl_options(const TlsConfig& tls, std::function<void(const std::string&)> on_error) {
    mqtt::ssl_options ssl;
    if (!tls.ca_file.empty()) ssl.set_trust_store(tls.ca_file);
    if (!tls.cert_file.empty()) ssl.set_key_store(tls.cert_file);
    if (!tls.key_file.empty()) ssl.set_private_key(tls.key_file);
    ssl.set_enable_server_cert_auth(tls.verify);
    ssl.set_verify(tls.verify);                     // the host name too
    ssl.set_ssl_version(MQTT_SSL_VERSION_TLS_1_2);  // or newer
    if (on_error) {
        const std::string trusted =
            tls.ca_file.empty() ? "the system's certificate authorities" : "mqtt.tls.ca_file " + tls.ca_file;
        ssl.set_error_handler([on_error = std::move(on_error), trusted](const std::string& what) {
            std::string line = "TLS: " + what;
            while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
            if (what.find("certificate verify failed") != std::string::npos)
                line += " (the broker's certificate was checked against " + trusted + ")";
            on_error(line);
        });
    }
    return ssl;
}

}  // namespace energyhub
