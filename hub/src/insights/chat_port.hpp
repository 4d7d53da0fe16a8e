#pragma once
// The LLM port: one chat request in, one answer or a typed failure out. OllamaClient implements
// it over HTTP; tests and the rule-only mode use other implementations.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace energyhub::insights {

struct ChatMessage {
    std::string role;  // system | user | assistant
    std::string content;
};

struct ChatRequest {
    std::vector<ChatMessage> messages;
    nlohmann::json format;  // a JSON schema for structured output; null for free text
};

enum class ChatStatus {
    ok,       // content holds the answer (reasoning removed), never empty
    timeout,  // no complete answer within the configured time
    error,    // unreachable, refused, HTTP error, malformed or oversized answer
    stopped,  // the daemon is shutting down
};

constexpr const char* to_string(ChatStatus status) {
    switch (status) {
        case ChatStatus::ok: return "ok";
        case ChatStatus::timeout: return "timeout";
        case ChatStatus::error: return "error";
        case ChatStatus::stopped: return "stopped";
    }
    return "error";
}

struct ChatResult {
    ChatStatus status = ChatStatus::error;
    std::string content;
    std::string error;     // for the log: what went wrong
    long http_status = 0;  // of the last attempt, 0 if none answered
    int attempts = 0;
    std::int64_t elapsed_ms = 0;
    bool truncated = false;  // the model stopped at num_predict (done_reason "length")
};

class ChatClient {
public:
    virtual ~ChatClient() = default;
    virtual ChatResult chat(const ChatRequest& request) = 0;
    // "ollama:<model>", stored as the insight's source.
    virtual std::string source() const = 0;
};

}  // namespace energyhub::insights
