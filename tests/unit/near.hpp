#pragma once
// A decoded measurement compared with what a test expects, within rounding (or a given tolerance).
#include <cmath>
#include <optional>

namespace energyhub::test {

inline bool near(const std::optional<double>& value, double expected, double tolerance = 1e-6) {
    return value && std::fabs(*value - expected) <= tolerance;
}

}  // namespace energyhub::test
