#pragma once
// FUZZ_CHECK: a property the component promises, checked on every input. A failure prints what
// was expected and aborts, so libFuzzer keeps the input as a crash reproducer.
#include <cstdio>
#include <cstdlib>

namespace energyhub::fuzz {

[[noreturn]] inline void check_failed(const char* condition, const char* context, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: check failed: %s%s%s\n", file, line, condition, *context ? " -- " : "", context);
    std::abort();
}

}  // namespace energyhub::fuzz

#define FUZZ_CHECK(condition) FUZZ_CHECK_CONTEXT(condition, "")
#define FUZZ_CHECK_CONTEXT(condition, context) \
    ((condition) ? void() : ::energyhub::fuzz::check_failed(#condition, (context), __FILE__, __LINE__))
