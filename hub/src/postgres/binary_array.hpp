#pragma once
// One-dimensional arrays in PostgreSQL's binary format (what array_recv reads), sent as binary
// parameters: the server copies the values instead of parsing text, which was about a quarter of
// a batch insert's CPU in PostgreSQL, and the hub formats no numbers or timestamps.
#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace energyhub::postgres {

// Element types (their oids in pg_type), which array_recv checks against the parameter's type.
enum class ElementType : std::uint32_t { text = 25, float8 = 701, timestamptz = 1184 };

class BinaryArray {
public:
    // Empties the array for elements of `type`; the buffer is kept for the next batch.
    void start(ElementType type) {
        bytes_.clear();
        count_ = 0;
        has_null_ = false;
        put32(1);  // dimensions
        put32(0);  // flags (has nulls), set by bytes()
        put32(static_cast<std::uint32_t>(type));
        put32(0);  // elements, set by bytes()
        put32(1);  // lower bound
    }

    void add(std::string_view text) {
        put32(static_cast<std::uint32_t>(text.size()));
        bytes_.append(text);
        ++count_;
    }
    void add(const std::optional<double>& v) {
        if (v) {
            put32(8);
            put64(std::bit_cast<std::uint64_t>(*v));
        } else {
            put32(kNull);
            has_null_ = true;
        }
        ++count_;
    }
    // A timestamptz: microseconds since 2000-01-01 00:00:00 UTC.
    void add_timestamp_ms(std::int64_t ms) {
        put32(8);
        put64(static_cast<std::uint64_t>((ms - kPostgresEpochMs) * 1000));
        ++count_;
    }

    const std::string& bytes() {
        patch32(4, has_null_ ? 1 : 0);
        patch32(12, count_);
        return bytes_;
    }

private:
    static constexpr std::uint32_t kNull = 0xFFFFFFFF;  // length -1
    static constexpr std::int64_t kPostgresEpochMs = 946'684'800'000;

    void put32(std::uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) bytes_ += static_cast<char>((v >> shift) & 0xFF);
    }
    void put64(std::uint64_t v) {
        put32(static_cast<std::uint32_t>(v >> 32));
        put32(static_cast<std::uint32_t>(v));
    }
    void patch32(std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes_[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
    }

    std::string bytes_;
    std::uint32_t count_ = 0;
    bool has_null_ = false;
};

}  // namespace energyhub::postgres
