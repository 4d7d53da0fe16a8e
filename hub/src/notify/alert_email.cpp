#include "notify/alert_email.hpp"

#include <spdlog/fmt/fmt.h>

namespace energyhub {

namespace {

const char* rule_title(RuleKind r) {
    switch (r) {
        case RuleKind::power_above: return "high power";
        case RuleKind::daily_energy_above: return "high daily energy use";
        case RuleKind::device_offline: return "not reporting";
        case RuleKind::spike: return "power spike";
    }
    return "alert";
}

const char* hint(RuleKind r, AlertState s) {
    if (s == AlertState::resolved) return "No action needed: the condition has cleared.";
    switch (r) {
        case RuleKind::power_above: return "Something is drawing a lot of power: check whether it should still be on.";
        case RuleKind::daily_energy_above: return "Today's use is above your limit: look for appliances left running.";
        case RuleKind::device_offline: return "Check the device's power and Wi-Fi; readings resume when it reconnects.";
        case RuleKind::spike: return "A sudden jump can mean a fault or a heater switching on: take a look.";
    }
    return "";
}

std::string quantity(RuleKind r, double v) {
    switch (r) {
        case RuleKind::daily_energy_above: return fmt::format("{:.2f} kWh", v);
        case RuleKind::device_offline: return fmt::format("{:.0f} s", v);
        default: return fmt::format("{:.0f} W", v);
    }
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string state_word(AlertState s) { return s == AlertState::firing ? "FIRING" : "RESOLVED"; }

std::string text_block(const PendingAlert& p) {
    const auto& a = p.alert;
    return fmt::format(
        "{} ({}): {} - {}\n"
        "  Value:      {}\n"
        "  Threshold:  {}\n"
        "  Since:      {} ({})\n"
        "  Details:    {}\n"
        "  Hint:       {}\n",
        p.device_name, a.device_id, rule_title(a.rule), state_word(a.state), quantity(a.rule, a.value),
        quantity(a.rule, a.threshold), p.since_local, p.time_zone, a.message, hint(a.rule, a.state));
}

std::string html_block(const PendingAlert& p) {
    const auto& a = p.alert;
    return fmt::format(
        "<h3>{} <small>({})</small>: {} &mdash; {}</h3>\n<table>\n"
        "<tr><td>Value</td><td>{}</td></tr>\n<tr><td>Threshold</td><td>{}</td></tr>\n"
        "<tr><td>Since</td><td>{} ({})</td></tr>\n<tr><td>Details</td><td>{}</td></tr>\n</table>\n<p>{}</p>\n",
        html_escape(p.device_name), html_escape(a.device_id), rule_title(a.rule), state_word(a.state),
        quantity(a.rule, a.value), quantity(a.rule, a.threshold), html_escape(p.since_local), html_escape(p.time_zone),
        html_escape(a.message), hint(a.rule, a.state));
}

std::string greeting(const PendingAlert& p) { return "Hello " + p.user_name + ",\n\n"; }

}  // namespace

Email render_alert_email(const PendingAlert& p, const std::string& from) {
    Email e;
    e.from = from;
    e.to = p.email;
    e.subject = fmt::format("[energyhub] {}: {} ({})", p.device_name, rule_title(p.alert.rule),
                            p.alert.state == AlertState::firing ? "firing" : "resolved");
    e.text = greeting(p) + text_block(p) + "\n-- \nenergyhub\n";
    e.html = "<html><body>\n<p>Hello " + html_escape(p.user_name) + ",</p>\n" + html_block(p) +
             "<p style=\"color:#888\">energyhub</p>\n</body></html>\n";
    e.message_id = "<" + p.alert.id + "@energyhub>";
    return e;
}

Email render_digest_email(const std::vector<PendingAlert>& pending, const std::string& from) {
    Email e;
    const auto& first = pending.front();
    e.from = from;
    e.to = first.email;
    e.subject = fmt::format("[energyhub] {} alerts for your devices", pending.size());
    e.text = greeting(first) + fmt::format("{} alerts are waiting for you:\n\n", pending.size());
    e.html = "<html><body>\n<p>Hello " + html_escape(first.user_name) + ",</p>\n<p>" +
             std::to_string(pending.size()) + " alerts are waiting for you:</p>\n";
    for (const auto& p : pending) {
        e.text += text_block(p) + "\n";
        e.html += html_block(p);
    }
    e.text += "-- \nenergyhub\n";
    e.html += "<p style=\"color:#888\">energyhub</p>\n</body></html>\n";
    e.message_id = fmt::format("<digest-{}-{}@energyhub>", first.alert.id, pending.size());
    return e;
}

}  // namespace energyhub
