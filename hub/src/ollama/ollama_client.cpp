#include "ollama/ollama_client.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include "insights/think.hpp"
#include "util/redact.hpp"

namespace energyhub::ollama {

using insights::ChatRequest;
using insights::ChatResult;
using insights::ChatStatus;
using insights::strip_think;

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Every curl resource is owned with its own free function.
struct CurlEasyDeleter {
    void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
struct CurlListDeleter {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlList = std::unique_ptr<curl_slist, CurlListDeleter>;

void append_header(CurlList& list, const char* line) {
    curl_slist* head = curl_slist_append(list.get(), line);
    if (!head) throw std::bad_alloc();
    if (head != list.get()) {
        (void)list.release();  // only when the list was empty: head is the new first node
        list.reset(head);
    }
}

std::shared_ptr<spdlog::logger> ollama_log() { return spdlog::get("insights.ollama"); }

// What the callbacks see of one transfer. They are called from inside curl's C code, so they
// catch everything and report failures through these fields.
struct Transfer {
    std::string body;
    std::size_t limit = 0;
    bool too_large = false;
    bool out_of_memory = false;
    const std::atomic<bool>* stop = nullptr;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    try {
        if (transfer->body.size() + n > transfer->limit) {
            transfer->too_large = true;
            return 0;  // anything but n makes curl fail the transfer with CURLE_WRITE_ERROR
        }
        transfer->body.append(data, n);
        return n;
    } catch (...) {
        transfer->out_of_memory = true;
        return 0;
    }
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
    const auto* transfer = static_cast<const Transfer*>(user);
    return transfer->stop && transfer->stop->load() ? 1 : 0;  // non-zero aborts the transfer
}

struct Attempt {
    CURLcode code = CURLE_OK;
    long http = 0;
    std::int64_t elapsed_ms = 0;
    std::string curl_error;
    Transfer transfer;
};

Attempt perform(CURL* easy, const std::string& url, const std::string* post, milliseconds connect_timeout,
                milliseconds total_timeout, const std::atomic<bool>* stop, std::size_t limit) {
    Attempt a;
    a.transfer.limit = limit;
    a.transfer.stop = stop;
    char error_buffer[CURL_ERROR_SIZE] = {};
    CurlList headers;
    append_header(headers, "Content-Type: application/json");
    append_header(headers, "Accept: application/json");
    append_header(headers, "Expect:");  // no 100-continue round trip before the body

    curl_easy_reset(easy);
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
    if (post) {
        curl_easy_setopt(easy, CURLOPT_POST, 1L);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post->data());
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post->size()));
    } else {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &a.transfer);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &a.transfer);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we have threads
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(total_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);  // the request may sit idle for minutes
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "energyhub-insights");
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);

    const auto started = SteadyClock::now();
    a.code = curl_easy_perform(easy);
    a.elapsed_ms = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started).count();
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &a.http);
    a.curl_error = error_buffer[0] ? error_buffer : curl_easy_strerror(a.code);
    // The handle outlives this call's header list and error buffer: let go of them.
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
    return a;
}

// A short, printable excerpt of an error body, preferring Ollama's {"error": "..."}.
std::string server_error(const std::string& body) {
    auto doc = nlohmann::json::parse(body, nullptr, false);
    std::string text = body;
    if (!doc.is_discarded() && doc.is_object() && doc.contains("error") && doc["error"].is_string())
        text = doc["error"].get<std::string>();
    if (text.size() > 200) text.resize(200);
    for (char& c : text)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return text.empty() ? "(empty body)" : text;
}

bool retryable(CURLcode code) {
    return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_GOT_NOTHING ||
           code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR;
}

bool sleep_unless_stopped(milliseconds duration, const std::atomic<bool>* stop) {
    const auto until = SteadyClock::now() + duration;
    while (SteadyClock::now() < until) {
        if (stop && stop->load()) return false;
        std::this_thread::sleep_for(std::min<SteadyClock::duration>(milliseconds(50), until - SteadyClock::now()));
    }
    return !(stop && stop->load());
}

}  // namespace

struct OllamaClient::Handle {
    CurlEasy easy;
};

OllamaClient::OllamaClient(const OllamaConfig& config, const std::atomic<bool>* stop)
    : config_(config), stop_(stop), handle_(std::make_unique<Handle>()) {
    handle_->easy.reset(curl_easy_init());
    if (!handle_->easy) throw std::runtime_error("curl_easy_init failed");
}

OllamaClient::~OllamaClient() = default;

std::string OllamaClient::request_body(const ChatRequest& request) const {
    nlohmann::json messages = nlohmann::json::array();
    for (const auto& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
    nlohmann::json body = {
        {"model", config_.model},
        {"messages", std::move(messages)},
        {"stream", false},
        {"think", false},
        {"options", {{"temperature", config_.temperature}, {"num_predict", config_.num_predict}}},
        {"keep_alive", config_.keep_alive_seconds},  // seconds; negative keeps the model loaded
    };
    if (!request.format.is_null()) body["format"] = request.format;
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ChatResult OllamaClient::chat(const ChatRequest& request) {
    ChatResult result;
    const auto started = SteadyClock::now();
    const auto deadline = started + config_.timeout;
    const std::string body = request_body(request);
    const std::string url = config_.url + "/api/chat";
    auto backoff = config_.retry_backoff;
    auto finish = [&](ChatStatus status, std::string error) {
        result.status = status;
        result.error = std::move(error);
        result.elapsed_ms = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started).count();
        return result;
    };

    for (int attempt = 1;; ++attempt) {
        const auto remaining = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
        if (remaining.count() <= 0) return finish(ChatStatus::timeout, "no answer within " + std::to_string(config_.timeout.count()) + " ms");
        const auto connect_timeout = std::min(config_.connect_timeout, remaining);
        Attempt a = perform(handle_->easy.get(), url, &body, connect_timeout, remaining, stop_, config_.max_answer_bytes);
        result.attempts = attempt;
        result.http_status = a.http;

        std::string error;
        bool retry = false;
        if (a.code == CURLE_ABORTED_BY_CALLBACK) return finish(ChatStatus::stopped, "stopped");
        if (a.code == CURLE_WRITE_ERROR && a.transfer.too_large)
            return finish(ChatStatus::error, "answer larger than max_answer_bytes (" + std::to_string(config_.max_answer_bytes) + ")");
        if (a.code == CURLE_WRITE_ERROR && a.transfer.out_of_memory) return finish(ChatStatus::error, "out of memory reading the answer");
        if (a.code == CURLE_OPERATION_TIMEDOUT) {
            // The whole budget used up means the model did not answer in time; ending early means
            // the connection was never made (connect_timeout), which is worth another try.
            if (a.elapsed_ms + 50 >= remaining.count())
                return finish(ChatStatus::timeout, "no answer within " + std::to_string(config_.timeout.count()) + " ms");
            error = "cannot connect to " + redact(config_.url) + ": " + a.curl_error;
            retry = true;
        } else if (a.code != CURLE_OK) {
            error = "request to " + redact(url) + " failed: " + a.curl_error;
            retry = retryable(a.code);
        } else if (a.http >= 500) {
            error = "HTTP " + std::to_string(a.http) + " from " + redact(url) + ": " + server_error(a.transfer.body);
            retry = true;
        } else if (a.http != 200) {
            return finish(ChatStatus::error, "HTTP " + std::to_string(a.http) + " from " + redact(url) + ": " + server_error(a.transfer.body));
        } else {
            auto doc = nlohmann::json::parse(a.transfer.body, nullptr, false);
            if (doc.is_discarded() || !doc.is_object()) return finish(ChatStatus::error, "the answer is not JSON");
            if (doc.contains("error") && doc["error"].is_string())
                return finish(ChatStatus::error, "server error: " + server_error(a.transfer.body));
            const auto message = doc.find("message");
            if (message == doc.end() || !message->is_object() || !message->contains("content") ||
                !(*message)["content"].is_string())
                return finish(ChatStatus::error, "the answer has no message.content");
            result.truncated = doc.contains("done_reason") && doc["done_reason"] == "length";
            result.content = strip_think((*message)["content"].get<std::string>());
            if (result.content.empty()) return finish(ChatStatus::error, "the answer is empty once its reasoning is removed");
            return finish(ChatStatus::ok, {});
        }

        if (!retry || attempt > config_.retries) return finish(ChatStatus::error, error);
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
        if (backoff >= left) return finish(ChatStatus::error, error + " (no time left to retry)");
        ollama_log()->warn("{}; retry {} of {} in {} ms", error, attempt, config_.retries, backoff.count());
        if (!sleep_unless_stopped(backoff, stop_)) return finish(ChatStatus::stopped, "stopped");
        backoff *= 2;
    }
}

bool OllamaClient::has_model(const std::vector<std::string>& models) const {
    return std::any_of(models.begin(), models.end(), [&](const std::string& name) {
        return name == config_.model || name == config_.model + ":latest";
    });
}

std::optional<std::vector<std::string>> OllamaClient::list_models(std::string* error) {
    const std::string url = config_.url + "/api/tags";
    Attempt a = perform(handle_->easy.get(), url, nullptr, config_.connect_timeout,
                        config_.connect_timeout + milliseconds(5000), stop_, config_.max_answer_bytes);
    auto fail = [&](std::string why) -> std::optional<std::vector<std::string>> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    if (a.code != CURLE_OK) return fail("GET " + redact(url) + ": " + a.curl_error);
    if (a.http != 200) return fail("GET " + redact(url) + ": HTTP " + std::to_string(a.http) + ": " + server_error(a.transfer.body));
    auto doc = nlohmann::json::parse(a.transfer.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("models") || !doc["models"].is_array())
        return fail("GET " + redact(url) + ": the answer has no models list");
    std::vector<std::string> names;
    for (const auto& m : doc["models"])
        if (m.is_object() && m.contains("name") && m["name"].is_string()) names.push_back(m["name"].get<std::string>());
    return names;
}

}  // namespace energyhub::ollama
