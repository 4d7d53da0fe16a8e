#pragma once
// Ollama's native HTTP API through libcurl: POST /api/chat (non-streaming, "think": false,
// structured output through `format`) and GET /api/tags.
//
// Time: the connection gets `connect_timeout`; the whole request, retries and backoff included,
// gets `timeout`, which must allow for a cold model load (the server holds the request open while
// it loads the model, minutes on a small machine, before the first byte). Refused connections
// and 5xx answers are retried with doubling backoff while time is left; a request that used up
// its time is not, as a second one would not be faster. A stop flag aborts a request in flight
// within about a second, so SIGTERM is not held up by a slow model.
//
// One client per thread: it keeps one curl handle (and so one connection) for its requests.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/insights_config.hpp"
#include "insights/chat_port.hpp"

namespace energyhub::ollama {

class OllamaClient final : public insights::ChatClient {
public:
    // `stop` (optional) is polled during requests and backoff.
    explicit OllamaClient(const OllamaConfig& config, const std::atomic<bool>* stop = nullptr);
    ~OllamaClient() override;
    OllamaClient(const OllamaClient&) = delete;
    OllamaClient& operator=(const OllamaClient&) = delete;

    insights::ChatResult chat(const insights::ChatRequest& request) override;
    std::string source() const override { return "ollama:" + config_.model; }

    // The names of the models the server has (GET /api/tags, one attempt, connect_timeout
    // for the whole request); nullopt with `error` set when it cannot say.
    std::optional<std::vector<std::string>> list_models(std::string* error = nullptr);

    // Whether `models` (from list_models) has the configured model; "deepseek-r1" is there as
    // "deepseek-r1:latest" too.
    bool has_model(const std::vector<std::string>& models) const;

    // The JSON body of a chat request, as sent.
    std::string request_body(const insights::ChatRequest& request) const;

private:
    struct Handle;
    OllamaConfig config_;
    const std::atomic<bool>* stop_;
    std::unique_ptr<Handle> handle_;
};

}  // namespace energyhub::ollama
