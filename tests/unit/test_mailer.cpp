// The alert email as sent (smtp/mailer.hpp): no stored text can add a MIME part or a header or
// break a line limit, and what the text said comes out of the decoding intact.
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "smtp/mailer.hpp"

using namespace energyhub;

namespace {

std::vector<std::string> lines_of(const std::string& message) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (auto end = message.find("\r\n"); end != std::string::npos; end = message.find("\r\n", start)) {
        out.push_back(message.substr(start, end - start));
        start = end + 2;
    }
    return out;
}

std::string declared_boundary(const std::string& message) {
    const auto at = message.find("boundary=\"");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    const auto begin = at + 10;
    return message.substr(begin, message.find('"', begin) - begin);
}

std::string unbase64(const std::string& b64) {
    std::string out(b64.size(), '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!b64.empty() && !out.empty() && b64.back() == '=' && out.back() == '\0') out.pop_back();  // padding
    return out;
}

// The Subject header, unfolded and with its encoded words decoded.
std::string subject_of(const std::string& message) {
    const auto lines = lines_of(message);
    std::string raw;
    bool in_subject = false;
    for (const auto& l : lines) {
        if (l.rfind("Subject: ", 0) == 0) {
            in_subject = true;
            raw = l.substr(9);
        } else if (in_subject && !l.empty() && l[0] == ' ') {
            raw += l;
        } else if (in_subject) {
            break;
        }
    }
    if (raw.rfind("=?UTF-8?B?", 0) != 0) return raw;
    std::string out;
    std::istringstream words(raw);
    for (std::string w; words >> w;) out += unbase64(w.substr(10, w.size() - 12));
    return out;
}

const char* const kName = "K\xc3\xbc" "che \xe2\x82\xac <b>&\"Kettle\"</b> \xf0\x9f\x94\xa5";  // Küche € <b>... 🔥

}  // namespace

BOOST_AUTO_TEST_SUITE(mailer)

BOOST_AUTO_TEST_CASE(a_body_cannot_add_a_part) {
    Email e{"hub@example.com", "alice@example.com", "[energyhub] alert", "", "", "<alert-1@energyhub>"};
    // What the boundary used to be, derived from the message id, and a part after it.
    const std::string old_boundary = "energyhub-alt-" + std::to_string(std::hash<std::string>{}(e.message_id));
    e.text = "Kettle\n--" + old_boundary + "\nContent-Type: text/html\n\n<a href=\"http://evil.example\">pay</a>\n";
    e.html = "<p>--energyhub-0123456789abcdef0123456789abcdef</p>";
    const auto m1 = render_mime(e, "Thu, 1 Jan 2026 00:00:00 +0000");
    const auto m2 = render_mime(e, "Thu, 1 Jan 2026 00:00:00 +0000");
    const auto boundary = declared_boundary(m1);
    BOOST_TEST(boundary != declared_boundary(m2));  // random, not derived from what a device controls
    int delimiters = 0;
    for (const auto& l : lines_of(m1))
        if (l.rfind("--" + boundary, 0) == 0) ++delimiters;
    BOOST_TEST(delimiters == 3);  // text, html, close: the injected "part" is text of the first
}

BOOST_AUTO_TEST_CASE(long_and_foreign_subjects_are_folded_encoded_words) {
    std::string name;
    for (int i = 0; i < 100; ++i) name += kName;  // far beyond any line limit, and a 4-byte character in each
    Email e{"hub@example.com", "alice@example.com", "[energyhub] " + name + ": high power (firing)", "t", "h",
            "<a@energyhub>"};
    const auto m = render_mime(e, "Thu, 1 Jan 2026 00:00:00 +0000");
    bool in_headers = true;
    for (const auto& l : lines_of(m)) {
        if (l.empty()) in_headers = false;
        BOOST_TEST_REQUIRE(l.size() <= (in_headers ? 78u : 76u), l);
    }
    BOOST_TEST(subject_of(m) == e.subject);
    // Short printable ASCII stays readable.
    e.subject = "[energyhub] Kettle: high power (firing)";
    BOOST_TEST(render_mime(e, "x").find("\r\nSubject: [energyhub] Kettle: high power (firing)\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bodies_are_quoted_printable_within_line_limits) {
    Email e{"hub@example.com", "alice@example.com", "s", "", "", "<a@energyhub>"};
    e.text = std::string(300, 'x') + "\n.\n" + kName + " = 5 \n";
    e.html = "<p>" + std::string(kName) + "</p>";
    const auto m = render_mime(e, "x");
    for (const auto& l : lines_of(m)) {
        BOOST_TEST_REQUIRE(l.size() <= 78u, l);
        BOOST_TEST_REQUIRE(l != ".", "a lone dot would end the SMTP message");
    }
    BOOST_TEST(m.find("\r\n=2E\r\n") != std::string::npos);        // the lone dot, encoded
    BOOST_TEST(m.find("K=C3=BCche =E2=82=AC") != std::string::npos);  // UTF-8 bytes
    BOOST_TEST(m.find(" =3D 5=20\r\n") != std::string::npos);         // '=' and a trailing space
}

BOOST_AUTO_TEST_SUITE_END()
