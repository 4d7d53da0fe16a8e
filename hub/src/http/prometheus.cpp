#include "http/prometheus.hpp"

#include <cmath>

#include <spdlog/fmt/fmt.h>

namespace energyhub {

PrometheusText& PrometheusText::family(std::string_view name, std::string_view help, std::string_view type) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    return *this;
}

PrometheusText& PrometheusText::sample(std::string_view name, double value, std::string_view labels) {
    if (labels.empty()) fmt::format_to(std::back_inserter(out_), "{} {}\n", name, value);
    else fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, labels, value);
    return *this;
}

PrometheusText& PrometheusText::counter(std::string_view name, std::string_view help, double value, std::string_view labels) {
    return family(name, help, "counter").sample(name, value, labels);
}

PrometheusText& PrometheusText::gauge(std::string_view name, std::string_view help, double value, std::string_view labels) {
    return family(name, help, "gauge").sample(name, value, labels);
}

PrometheusText& PrometheusText::histogram(std::string_view name, std::string_view help, const Histogram& h) {
    family(name, help, "histogram");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds().size(); ++i) {
        cumulative += h.bucket(i);
        fmt::format_to(std::back_inserter(out_), "{}_bucket{{le=\"{}\"}} {}\n", name, h.bounds()[i], cumulative);
    }
    cumulative += h.bucket(h.bounds().size());
    fmt::format_to(std::back_inserter(out_), "{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, cumulative, name,
                   h.sum(), name, h.count());
    return *this;
}

}  // namespace energyhub
