#include "payload.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace energyhub::sim {

namespace {

// Half of the last printed digit, by number of decimals.
constexpr std::array kHalfUnit{0.5, 0.05, 0.005, 0.0005};

class Writer {
public:
    explicit Writer(PayloadBuffer& buffer)
        : begin_(buffer.data()), pos_(buffer.data()), end_(buffer.data() + buffer.size()) {}

    void text(std::string_view s) {
        const auto n = std::min(s.size(), static_cast<std::size_t>(end_ - pos_));
        std::memcpy(pos_, s.data(), n);
        pos_ += n;
    }

    void integer(std::int64_t value) { advance(std::to_chars(pos_, end_, value)); }

    void fixed(double value, int decimals) {
        // JSON has no inf/nan; the models never produce them, but a payload must stay parseable.
        if (!std::isfinite(value)) {
            text("null");
            return;
        }
        // Keep "-0.0" out of the payload when a tiny negative rounds to zero.
        if (std::fabs(value) < kHalfUnit[static_cast<std::size_t>(decimals)]) value = 0.0;
        advance(std::to_chars(pos_, end_, value, std::chars_format::fixed, decimals));
    }

    std::string_view view() const { return {begin_, static_cast<std::size_t>(pos_ - begin_)}; }

private:
    void advance(std::to_chars_result r) {
        // Only a full buffer fails, and the capacity covers every value a model produces.
        if (r.ec == std::errc{}) pos_ = r.ptr;
    }

    char* begin_;
    char* pos_;
    char* end_;
};

}  // namespace

std::string_view format_native(PayloadBuffer& buffer, std::int64_t ts_ms, const Sample& sample) {
    Writer w(buffer);
    w.text(R"({"ts":)");
    w.integer(ts_ms);
    w.text(R"(,"power_w":)");
    w.fixed(sample.power_w, 1);
    w.text(R"(,"energy_wh":)");
    w.fixed(sample.energy_wh, 3);
    w.text(R"(,"voltage_v":)");
    w.fixed(sample.voltage_v, 1);
    w.text(R"(,"current_a":)");
    w.fixed(sample.current_a, 3);
    w.text("}");
    return w.view();
}

}  // namespace energyhub::sim
