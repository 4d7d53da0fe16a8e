#pragma once
// The `ollama` and `insights` sections: the LLM client and the insight scheduler.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace energyhub {

class Section;

struct OllamaConfig {
    std::string url = "http://127.0.0.1:11434";  // empty: no model, every insight from the rules
    std::string model = "deepseek-r1";
    // A cold model load holds the request open for minutes before the first byte, so the
    // connection gets a short timeout and the answer a long one.
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds timeout{300'000};  // one request including its retries
    int retries = 2;                            // after a refused connection or a 5xx
    std::chrono::milliseconds retry_backoff{1'000};  // doubled after each retry
    double temperature = 0.2;
    int num_predict = 1024;
    std::int64_t keep_alive_seconds = 1800;  // -1: keep the model loaded for good
    std::uint64_t max_answer_bytes = 256 * 1024;
};

// Time-of-use price for the local hours [from_hour, to_hour); wraps past midnight when
// to_hour <= from_hour.
struct TariffBand {
    int from_hour = 0;
    int to_hour = 0;
    double per_kwh = 0;
};

struct Tariff {
    double per_kwh = 0;  // 0: no tariff configured, no costs
    std::string currency = "EUR";
    std::vector<TariffBand> bands;

    bool configured() const { return per_kwh > 0 || !bands.empty(); }
    // The price of energy used in this local hour of the day.
    double price_at_hour(int hour) const;
};

struct InsightsConfig {
    std::string schedule = "0 7 * * *";
    std::string timezone = "UTC";  // of the schedule; each user's days follow the user's own zone
    std::string client_id = "energyhub-insights";
    std::string topic_prefix = "insights";  // retained insights/<user_id>
    Tariff tariff;
    int on_demand_per_device_per_day = 1;  // 0: alerts never trigger an insight
    std::chrono::milliseconds on_demand_max_age{3'600'000};  // older alerts are facts only
};

void read_ollama_config(Section s, OllamaConfig& c);
void read_insights_config(Section s, InsightsConfig& c);

}  // namespace energyhub
