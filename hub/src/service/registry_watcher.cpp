#include "service/registry_watcher.hpp"

namespace energyhub {

void RegistryWatcher::poll() {
    for (const auto& id : directory_.changes()) {
        if (cache_) cache_->erase(id);
        pipeline_.device_changed(id, !directory_.find(id));
    }
}

}  // namespace energyhub
