#include "smtp/mailer.hpp"

#include <curl/curl.h>
#include <openssl/rand.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>

#include "domain/text.hpp"
#include "security/password.hpp"
#include "util/redact.hpp"

namespace energyhub {

namespace {

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

constexpr std::size_t kHeaderLine = 78;  // RFC 5322's recommended line length
constexpr std::size_t kQpLine = 76;      // RFC 2045's limit for quoted-printable lines
// Encoded words are at most 75 characters (RFC 2047); 42 bytes make "=?UTF-8?B?" + 56 base64
// characters + "?=", which fits a first line after "Subject: " too.
constexpr std::size_t kEncodedWordBytes = 42;

// A header value: as it is when it is short printable ASCII, else RFC 2047 encoded words of whole
// UTF-8 characters, folded onto continuation lines, so no stored text can exceed a line or add a
// header. `name_length` is the length of "Name: " before it.
std::string header_text(std::string_view s, std::size_t name_length) {
    bool plain = name_length + s.size() <= kHeaderLine;
    for (unsigned char c : s) plain = plain && c >= 0x20 && c < 0x7f;
    if (plain) return std::string(s);
    std::string out;
    while (!s.empty()) {
        auto n = utf8_prefix_bytes(s, kEncodedWordBytes);
        if (n == 0) n = std::min(s.size(), kEncodedWordBytes);  // not UTF-8: cut anywhere, still encoded
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + base64(s.substr(0, n)) + "?=";
        s.remove_prefix(n);
    }
    return out;
}

// A body in quoted-printable (RFC 2045): lines of at most 76 characters whatever the text holds,
// CRLF line ends, and a leading "." encoded so it can never end the SMTP message.
std::string quoted_printable(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    std::size_t column = 0;
    auto put = [&](std::string_view piece) {
        if (column + piece.size() > kQpLine - 1) {  // room for the soft break's '='
            out += "=\r\n";
            column = 0;
        }
        out += piece;
        column += piece.size();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\r') continue;
        if (c == '\n') {
            out += "\r\n";
            column = 0;
            continue;
        }
        const bool at_end_of_line = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
        const bool literal = (c >= 33 && c <= 126 && c != '=' && !(c == '.' && column == 0)) ||
                             (c == ' ' && !at_end_of_line);
        if (literal) {
            const char one = static_cast<char>(c);
            put(std::string_view(&one, 1));
        } else {
            const char escaped[3] = {'=', kHex[c >> 4], kHex[c & 15]};
            put(std::string_view(escaped, 3));
        }
    }
    if (column > 0) out += "\r\n";
    return out;
}

// 128 random bits: a boundary no text in the message can know in advance.
std::string random_boundary() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for a MIME boundary");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string b = "energyhub-";
    for (unsigned char c : bytes) {
        b += kHex[c >> 4];
        b += kHex[c & 15];
    }
    return b;
}

std::string rfc5322_date() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

struct Upload {
    const std::string* data;
    std::size_t offset = 0;
};

extern "C" std::size_t read_upload(char* buffer, std::size_t size, std::size_t nitems, void* user) {
    auto* up = static_cast<Upload*>(user);
    std::size_t n = std::min(size * nitems, up->data->size() - up->offset);
    std::memcpy(buffer, up->data->data() + up->offset, n);
    up->offset += n;
    return n;
}

}  // namespace

std::string render_mime(const Email& e, const std::string& date) {
    const std::string text = quoted_printable(e.text), html = quoted_printable(e.html);
    std::string boundary = random_boundary();
    // Quoted-printable lines cannot hold "--" + 32 random hex digits by chance; check anyway.
    while (text.find(boundary) != std::string::npos || html.find(boundary) != std::string::npos) boundary = random_boundary();
    std::string m;
    m += "Date: " + date + "\r\n";
    m += "From: " + e.from + "\r\n";
    m += "To: " + e.to + "\r\n";
    m += "Subject: " + header_text(e.subject, 9) + "\r\n";
    m += "Message-ID: " + e.message_id + "\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Auto-Submitted: auto-generated\r\n";
    m += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n\r\n";
    m += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
    m += text;
    m += "--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
    m += html;
    m += "--" + boundary + "--\r\n";
    return m;
}

// Server, TLS, login and timeouts: what sending and check-config's probe share.
void SmtpMailer::connect_settings(CURL* c, char* error) const {
    curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<long long>(config_.timeout.count(), 10'000)));
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     config_.starttls == "required" ? CURLUSESSL_ALL
                     : config_.starttls == "off"    ? CURLUSESSL_NONE
                                                    : CURLUSESSL_TRY);
    if (!config_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
    if (!config_.username.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, config_.username.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, config_.password.c_str());
    }
}

Probe SmtpMailer::probe() const {
    Probe probe{false, url_host(config_.url), ""};
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return {false, probe.target, "cannot create a curl handle"};
    char error[CURL_ERROR_SIZE] = {0};
    connect_settings(curl.get(), error);
    // Connect only: greeting, EHLO, STARTTLS and login, no mail.
    curl_easy_setopt(curl.get(), CURLOPT_CONNECT_ONLY, 1L);
    const CURLcode rc = curl_easy_perform(curl.get());
    probe.ok = rc == CURLE_OK;
    if (!probe.ok) probe.problem = error[0] ? error : curl_easy_strerror(rc);
    return probe;
}

SendResult SmtpMailer::send(const Email& email) {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return {SendResult::Status::retry, "cannot create a curl handle"};
    const std::string message = render_mime(email, rfc5322_date());
    Upload upload{&message};
    std::unique_ptr<curl_slist, SlistDeleter> rcpt(curl_slist_append(nullptr, ("<" + email.to + ">").c_str()));
    const std::string from = "<" + email.from + ">";
    char error[CURL_ERROR_SIZE] = {0};

    CURL* c = curl.get();
    connect_settings(c, error);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    CURLcode rc = curl_easy_perform(c);
    long smtp_code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &smtp_code);
    if (rc == CURLE_OK) return {};
    std::string why = error[0] ? error : curl_easy_strerror(rc);
    if (smtp_code >= 500 && smtp_code < 600) return {SendResult::Status::rejected, "SMTP " + std::to_string(smtp_code) + ": " + why};
    if (smtp_code >= 400) why = "SMTP " + std::to_string(smtp_code) + ": " + why;
    return {SendResult::Status::retry, why};
}

}  // namespace energyhub
