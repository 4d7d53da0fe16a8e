#pragma once
// The simulated devices' MQTT secrets, as registration hands them out: one "device_id<TAB>secret"
// line per device in a file only its owner may read. Registration writes it; publishing reads it,
// so secrets never appear on a command line.
#include <map>
#include <string>

namespace energyhub::sim {

using DeviceSecrets = std::map<std::string, std::string>;

// An absent file is an empty set; a line that is not "id<TAB>secret" is an error naming the line.
DeviceSecrets read_secrets(const std::string& path);

// Writes the whole set (mode 0600) through a temporary file and a rename.
void write_secrets(const std::string& path, const DeviceSecrets& secrets);

}  // namespace energyhub::sim
