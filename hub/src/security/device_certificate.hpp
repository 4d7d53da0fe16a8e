#pragma once
// Client certificates for devices that log in to the broker by certificate instead of a secret
// (Mosquitto's use_identity_as_username: the common name is the device id). Issued from a CA the
// operator keeps (device_ca in the config); the broker trusts that CA on its certificate listener.
#include <string>

namespace energyhub {

struct DeviceCertificate {
    std::string cert_pem;  // CN=<device id>, clientAuth, signed by the CA
    std::string key_pem;   // a new P-256 key, unencrypted: the device's to keep
};

// Throws std::runtime_error naming the file or step that failed (unreadable CA, key that does not
// match the certificate...).
DeviceCertificate issue_device_certificate(const std::string& device_id, const std::string& ca_cert_file,
                                           const std::string& ca_key_file, int days);

}  // namespace energyhub
