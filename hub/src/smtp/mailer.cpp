#include "smtp/mailer.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cstring>
#include <ctime>
#include <memory>

namespace energyhub {

namespace {

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// A header value with non-ASCII text becomes an RFC 2047 encoded word.
std::string header_text(const std::string& s) {
    bool ascii = true;
    for (unsigned char c : s) ascii = ascii && c < 0x80 && c != '\r' && c != '\n';
    if (ascii) return s;
    std::string b64(4 * ((s.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), reinterpret_cast<const unsigned char*>(s.data()),
                            static_cast<int>(s.size()));
    b64.resize(static_cast<std::size_t>(n));
    return "=?UTF-8?B?" + b64 + "?=";
}

// Lines must end in CRLF on the wire; a lone "." line would end the message early.
std::string crlf_body(const std::string& text) {
    std::string out;
    out.reserve(text.size() + text.size() / 40);
    bool line_start = true;
    for (char c : text) {
        if (c == '\r') continue;
        if (line_start && c == '.') out += '.';
        if (c == '\n') {
            out += "\r\n";
            line_start = true;
        } else {
            out += c;
            line_start = false;
        }
    }
    if (!line_start) out += "\r\n";
    return out;
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
    const std::string boundary = "energyhub-alt-" + std::to_string(std::hash<std::string>{}(e.message_id));
    std::string m;
    m += "Date: " + date + "\r\n";
    m += "From: " + e.from + "\r\n";
    m += "To: " + e.to + "\r\n";
    m += "Subject: " + header_text(e.subject) + "\r\n";
    m += "Message-ID: " + e.message_id + "\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Auto-Submitted: auto-generated\r\n";
    m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
    m += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
    m += crlf_body(e.text);
    m += "--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
    m += crlf_body(e.html);
    m += "--" + boundary + "--\r\n";
    return m;
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
    curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long long>(config_.timeout.count(), 10'000)));
    curl_easy_setopt(c, CURLOPT_USE_SSL, config_.starttls == "required" ? CURLUSESSL_ALL
                                         : config_.starttls == "off"    ? CURLUSESSL_NONE
                                                                        : CURLUSESSL_TRY);
    if (!config_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
    if (!config_.username.empty()) {
        curl_easy_setopt(c, CURLOPT_USERNAME, config_.username.c_str());
        curl_easy_setopt(c, CURLOPT_PASSWORD, config_.password.c_str());
    }
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
