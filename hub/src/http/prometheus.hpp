#pragma once
// Prometheus text exposition format (version 0.0.4), written by hand: a handful of counters,
// gauges and histograms do not need a client library.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/histogram.hpp"

namespace energyhub {

class PrometheusText {
public:
    // labels: `reason="malformed_json"` (already formatted), or empty.
    PrometheusText& counter(std::string_view name, std::string_view help, double value, std::string_view labels = {});
    PrometheusText& gauge(std::string_view name, std::string_view help, double value, std::string_view labels = {});
    PrometheusText& histogram(std::string_view name, std::string_view help, const Histogram& h);

    // For a metric with several label sets: HELP/TYPE once, then samples.
    PrometheusText& family(std::string_view name, std::string_view help, std::string_view type);
    PrometheusText& sample(std::string_view name, double value, std::string_view labels = {});

    const std::string& text() const { return out_; }

private:
    std::string out_;
};

constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace energyhub
