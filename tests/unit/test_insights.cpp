#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <stdexcept>
#include <string>

#include "config/config.hpp"
#include "insights/advice.hpp"
#include "insights/facts.hpp"
#include "insights/generator.hpp"
#include "insights/rules.hpp"
#include "insights/scheduler.hpp"
#include "insights/think.hpp"
#include "insights/usage.hpp"
#include "util/clock.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

using namespace energyhub;
using namespace energyhub::insights;

namespace {

std::string config_error(const std::string& yaml) {
    try {
        parse_config(yaml, "test.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

const char* const kAdvice =
    R"({"summary": "You used 80 kWh.", "recommendations": [)"
    R"({"title": "Heat pump", "action": "Lower the flow temperature.", "device_id": "hp-1", "estimated_saving_kwh_per_month": 25},)"
    R"({"title": "Fridge", "action": "Defrost it.", "estimated_saving_kwh_per_month": "about 4.5 kWh"},)"
    R"({"title": "Evening", "action": "Shift the dishwasher.", "estimated_saving_kwh_per_month": 0}]})";

UsageData sample_usage() {
    UsageData d;
    d.user_id = "alice";
    d.tz = "Europe/Berlin";
    d.yesterday = "2026-11-27";
    d.week_first = "2026-11-21";
    d.devices = {{"hp-1", "Heat pump", "heatpump"}, {"fridge-1", "", "plug"}, {"lamp-1", "Lamp", "plug"}};
    // hp-1: 10 kWh at 18:00 on each of the 6 days before yesterday, 12 kWh yesterday at 18:00,
    // 50 kWh the week before. fridge-1: 1 kWh at 03:00 per day, steady.
    d.rows = {{"hp-1", Bucket::week, 18, 60'000},    {"hp-1", Bucket::yesterday, 18, 12'000},
              {"hp-1", Bucket::previous_week, 18, 50'000}, {"fridge-1", Bucket::week, 3, 6'000},
              {"fridge-1", Bucket::yesterday, 3, 1'000},   {"fridge-1", Bucket::previous_week, 3, 7'000}};
    // Two night hours: 150 W and 165 W in all, the fridge 140 W at least, the heat pump 10 W.
    d.night = {{"fridge-1", 0, 140}, {"hp-1", 0, 10}, {"fridge-1", 3'600'000, 145}, {"hp-1", 3'600'000, 20}};
    return d;
}

Tariff evening_tariff() {
    Tariff t;
    t.per_kwh = 0.30;
    t.bands = {{17, 21, 0.45}};
    return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(insights)

BOOST_AUTO_TEST_CASE(think_blocks_are_removed) {
    using energyhub::insights::strip_think;
    BOOST_TEST(strip_think("<think>\nreasoning\n</think>\n\n{\"a\":1}") == "{\"a\":1}");
    BOOST_TEST(strip_think("<think></think>answer") == "answer");                      // empty block
    BOOST_TEST(strip_think("reasoning without the opening tag</think>\nanswer ") == "answer");
    BOOST_TEST(strip_think("<think>a</think>b<think>c</think> final") == "final");   // after the last one
    BOOST_TEST(strip_think("  plain answer\n") == "plain answer");
    BOOST_TEST(strip_think("<think>cut off inside the reasoning").empty());
    BOOST_TEST(strip_think("<think>only</think>   ").empty());
    BOOST_TEST(energyhub::insights::strip_code_fence("```json\n{\"a\":1}\n```") == "{\"a\":1}");
    BOOST_TEST(energyhub::insights::strip_code_fence("```\n[1]\n```\n") == "[1]");
    BOOST_TEST(energyhub::insights::strip_code_fence("no fence") == "no fence");
}

BOOST_AUTO_TEST_CASE(structured_answer_is_validated) {
    std::string problem;
    auto advice = parse_model_answer(kAdvice, &problem);
    BOOST_REQUIRE(advice);
    BOOST_TEST(advice->format == "json");
    BOOST_TEST(advice->summary == "You used 80 kWh.");
    BOOST_REQUIRE(advice->recommendations.size() == 3u);
    BOOST_TEST(advice->recommendations[0].device_id == "hp-1");
    BOOST_TEST(advice->recommendations[0].saving_kwh_per_month == 25.0);
    BOOST_TEST(advice->recommendations[1].saving_kwh_per_month == 4.5);  // a number inside text
    BOOST_TEST(advice->recommendations[1].device_id.empty());
}

BOOST_AUTO_TEST_CASE(stored_recommendations_read_back_whole) {
    // What the insights table holds comes back as it was made, the computed cost included.
    auto advice = parse_model_answer(kAdvice);
    BOOST_REQUIRE(advice);
    advice->recommendations[0].saving_cost_per_month = 7.25;
    const auto stored = nlohmann::json::parse(recommendations_json(advice->recommendations).dump());
    const auto back = recommendations_from_json(stored);
    BOOST_REQUIRE(back.size() == advice->recommendations.size());
    BOOST_TEST(recommendations_json(back) == recommendations_json(advice->recommendations));
    BOOST_TEST(back[0].saving_cost_per_month.value_or(0) == 7.25);
    BOOST_TEST(!back[1].saving_cost_per_month);
    BOOST_TEST(recommendations_from_json(nlohmann::json::object()).empty());
}

BOOST_AUTO_TEST_CASE(invalid_items_are_dropped_and_bounds_hold) {
    // Items without an action or with a negative saving go; more than 3 are cut to 3; a device id
    // that is not an id is dropped; long fields are cut.
    const std::string long_title(3000, 'x');
    const std::string answer =
        R"({"summary": "S", "recommendations": [{"title": "no action", "estimated_saving_kwh_per_month": 1},)"
        R"({"title": "negative", "action": "a", "estimated_saving_kwh_per_month": -5},)"
        R"({"title": ")" + long_title + R"(", "action": "a", "device_id": "not an id!", "estimated_saving_kwh_per_month": 1},)"
        R"({"title": "b", "action": "b", "estimated_saving_kwh_per_month": 2},)"
        R"({"title": "c", "action": "c", "estimated_saving_kwh_per_month": 3},)"
        R"({"title": "d", "action": "d", "estimated_saving_kwh_per_month": 4}]})";
    auto advice = parse_model_answer(answer);
    BOOST_REQUIRE(advice);
    BOOST_TEST(advice->format == "json");
    BOOST_REQUIRE(advice->recommendations.size() == 3u);
    BOOST_TEST(advice->recommendations[0].title.size() == kMaxFieldBytes);
    BOOST_TEST(advice->recommendations[0].device_id.empty());
    BOOST_TEST(advice->recommendations[2].title == "c");
}

BOOST_AUTO_TEST_CASE(answers_that_ignore_the_format_become_text) {
    std::string problem;
    auto text = parse_model_answer("Switch the kettle off.", &problem);
    BOOST_REQUIRE(text);
    BOOST_TEST(text->format == "text");
    BOOST_TEST(text->summary == "Switch the kettle off.");
    BOOST_TEST(text->recommendations.empty());
    BOOST_TEST(problem == "the answer is not JSON");

    auto truncated = parse_model_answer(R"({"summary": "cut off", "recommendations": [{"title": )", &problem);
    BOOST_REQUIRE(truncated);
    BOOST_TEST(truncated->format == "text");

    auto wrong_shape = parse_model_answer(R"({"advice": "turn things off"})", &problem);
    BOOST_REQUIRE(wrong_shape);
    BOOST_TEST(wrong_shape->format == "text");
    BOOST_TEST(problem == "the answer has no summary");

    auto no_recs = parse_model_answer(R"({"summary": "ok", "recommendations": [{"title": "t"}]})", &problem);
    BOOST_TEST(no_recs->format == "text");
    BOOST_TEST(problem == "the answer has no valid recommendation");

    BOOST_TEST(parse_model_answer("[1, 2]")->format == "text");
    BOOST_TEST(!parse_model_answer("   "));
    BOOST_TEST(parse_model_answer(std::string(100'000, 'y'))->summary.size() == kMaxTextAnswerBytes);
    BOOST_TEST(parse_model_answer(std::string("```json\n") + kAdvice + "\n```")->format == "json");
}

BOOST_AUTO_TEST_CASE(utf8_is_cut_on_a_character_boundary) {
    const std::string euros = "\xe2\x82\xac\xe2\x82\xac";  // two 3-byte characters
    BOOST_TEST(truncate_utf8(euros, 4) == "\xe2\x82\xac");
    BOOST_TEST(truncate_utf8(euros, 3) == "\xe2\x82\xac");
    BOOST_TEST(truncate_utf8(euros, 2).empty());
    BOOST_TEST(truncate_utf8("abc", 10) == "abc");
}

BOOST_AUTO_TEST_CASE(aggregates_from_rollup_rows) {
    const auto a = aggregate(sample_usage(), evening_tariff());
    BOOST_TEST(a.kwh_yesterday == 13.0);
    BOOST_TEST(a.kwh_week == 79.0);
    BOOST_TEST(a.kwh_previous == 57.0);
    BOOST_TEST(*a.change_pct == (79.0 - 57.0) / 57.0 * 100, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(*a.peak_hour == 18);
    BOOST_TEST(a.peak_hour_kwh_per_day == 72.0 / 7, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(a.cost_yesterday == 12 * 0.45 + 1 * 0.30, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(a.cost_week == 72 * 0.45 + 7 * 0.30, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(a.peak_band_kwh_week == 72.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(*a.base_load_share_pct == 150.0 * 168 / 1000 / 79 * 100, boost::test_tools::tolerance(1e-9));
    BOOST_REQUIRE(a.devices.size() == 3u);
    BOOST_TEST(a.devices[0].device_id == "hp-1");
    BOOST_TEST(a.devices[0].kwh_week == 72.0);
    BOOST_TEST(a.devices[2].device_id == "lamp-1");  // registered, no use
    BOOST_TEST(!a.devices[2].change_pct);
    BOOST_TEST(*a.devices[1].change_pct == 0.0);
}

BOOST_AUTO_TEST_CASE(a_grid_meter_and_solar_make_the_household_use) {
    // The loads of sample_usage() plus a grid meter (with its three phases) and a solar meter:
    // the household's use is what the grid delivered plus the solar used at home, not the sum of
    // every meter and plug; cost and base load follow the grid meter.
    UsageData d = sample_usage();
    d.devices.push_back({"house", "House", "grid"});
    d.devices.push_back({"roof", "Roof", "pv"});
    d.devices.push_back({"dual", "Dual plug", "plug"});
    d.rows.push_back({"house", Bucket::week, 18, 50'000, 0});
    d.rows.push_back({"house", Bucket::week, 12, 0, 20'000});
    d.rows.push_back({"house", Bucket::yesterday, 18, 9'000, 3'000});
    d.rows.push_back({"house", Bucket::previous_week, 18, 60'000, 1'000});
    d.rows.push_back({"house:0", Bucket::week, 18, 20'000, 0});  // a phase: counted through the total
    d.rows.push_back({"roof", Bucket::week, 12, 0, 30'000});      // a reversed clamp: production as export
    d.rows.push_back({"roof", Bucket::yesterday, 12, 5'000, 0});
    d.rows.push_back({"dual", Bucket::week, 20, 2'000, 0});       // its own total and its channels
    d.rows.push_back({"dual:1", Bucket::week, 20, 1'500, 0});
    d.night.push_back({"house", 0, 400});
    d.night.push_back({"house", 3'600'000, 350});
    const auto a = aggregate(d, evening_tariff());
    BOOST_TEST_REQUIRE(a.grid.has_value());
    BOOST_TEST(a.grid->imported.week == 59.0);
    BOOST_TEST(a.grid->exported.week == 23.0);
    BOOST_TEST(a.grid->imported.yesterday == 9.0);
    BOOST_TEST(a.grid->exported.previous == 1.0);
    BOOST_TEST(a.grid->produced.week == 35.0);
    BOOST_TEST(a.grid->self_consumption_week == 12.0);
    BOOST_TEST(*a.grid->self_consumption_pct == 12.0 / 35 * 100, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(a.kwh_week == 59.0 + 12.0);          // grid import + solar used at home
    BOOST_TEST(a.kwh_yesterday == 9.0 + 2.0);       // 5 produced, 3 returned
    BOOST_TEST(*a.base_load_w == 350.0);            // the grid meter's lowest night hour
    BOOST_TEST(a.cost_week == 59.0 * 0.45, boost::test_tools::tolerance(1e-9));  // imports are paid, at 18:00
    // Meters are not devices; a device with its own total is counted once.
    for (const auto& dev : a.devices) {
        BOOST_TEST(dev.device_id != "house");
        BOOST_TEST(dev.device_id != "roof");
        BOOST_TEST(dev.device_id != "dual:1");
    }
    const auto facts = build_facts(a, {}, evening_tariff(), nullptr);
    BOOST_TEST(facts["grid"]["export_kwh_7d"] == 23.0);
    BOOST_TEST(facts["solar"]["self_consumption_pct"] == 34.3);
    const auto advice = rules_advice(a, {}, nullptr);
    BOOST_TEST(advice.summary.find("returned 23.0 kWh") != std::string::npos, advice.summary);
    BOOST_TEST(advice.summary.find("34% of the 35.0 kWh") != std::string::npos, advice.summary);

    // Without any meter nothing changes: no grid facts.
    BOOST_TEST(!aggregate(sample_usage(), evening_tariff()).grid.has_value());
    BOOST_TEST(!build_facts(aggregate(sample_usage(), evening_tariff()), {}, evening_tariff(), nullptr).contains("grid"));
}

BOOST_AUTO_TEST_CASE(time_of_use_prices) {
    Tariff t = evening_tariff();
    t.bands.push_back({22, 6, 0.20});  // wraps past midnight
    BOOST_TEST(t.price_at_hour(16) == 0.30);
    BOOST_TEST(t.price_at_hour(17) == 0.45);
    BOOST_TEST(t.price_at_hour(20) == 0.45);
    BOOST_TEST(t.price_at_hour(21) == 0.30);
    BOOST_TEST(t.price_at_hour(23) == 0.20);
    BOOST_TEST(t.price_at_hour(5) == 0.20);
    BOOST_TEST(t.price_at_hour(6) == 0.30);
}

BOOST_AUTO_TEST_CASE(rules_give_three_priced_recommendations) {
    const auto a = aggregate(sample_usage(), evening_tariff());
    auto advice = rules_advice(a, {}, nullptr);
    price_savings(advice, a);
    BOOST_TEST(advice.source == "rules");
    BOOST_REQUIRE(advice.recommendations.size() == 3u);
    // The heat pump rose 44% (+22 kWh a week): the largest saving comes first.
    BOOST_TEST(advice.recommendations[0].device_id == "hp-1");
    BOOST_TEST(advice.recommendations[0].saving_kwh_per_month == 94.29);
    BOOST_TEST(advice.recommendations[1].device_id == "fridge-1");  // the base load, from the fridge
    for (const auto& r : advice.recommendations) BOOST_TEST(r.saving_cost_per_month.has_value());
    BOOST_TEST(advice.summary.find("Yesterday (2026-11-27) you used 13.0 kWh") == 0u);
    // Deterministic: the same input gives the same advice.
    BOOST_TEST(recommendations_json(rules_advice(a, {}, nullptr).recommendations).dump() ==
               recommendations_json(rules_advice(a, {}, nullptr).recommendations).dump());
}

BOOST_AUTO_TEST_CASE(rules_put_the_alerting_device_first) {
    const auto a = aggregate(sample_usage(), Tariff{});
    Alert focus;
    focus.id = "a1";
    focus.user_id = "alice";
    focus.device_id = "fridge-1";
    focus.rule = RuleKind::spike;
    focus.value = 900;
    focus.threshold = 400;
    const auto advice = rules_advice(a, {focus}, &focus);
    BOOST_REQUIRE(advice.recommendations.size() == 3u);
    BOOST_TEST(advice.recommendations[0].device_id == "fridge-1");
    BOOST_TEST(advice.recommendations[0].title == "Check fridge-1 now");
    BOOST_TEST(advice.recommendations[1].device_id != "fridge-1");
    BOOST_TEST(!advice.recommendations[0].saving_cost_per_month);  // no tariff
}

BOOST_AUTO_TEST_CASE(rules_without_any_use) {
    UsageData d;
    d.user_id = "bob";
    d.tz = "UTC";
    d.yesterday = "2026-11-27";
    d.week_first = "2026-11-21";
    const auto advice = rules_advice(aggregate(d, Tariff{}), {}, nullptr);
    BOOST_TEST(advice.recommendations.size() == 1u);
    BOOST_TEST(advice.summary.find("No electricity use") == 0u);
}

BOOST_AUTO_TEST_CASE(facts_and_prompt) {
    const auto a = aggregate(sample_usage(), evening_tariff());
    Alert alert;
    alert.id = "a1";
    alert.device_id = "hp-1";
    alert.rule = RuleKind::power_above;
    alert.value = 3100;
    alert.threshold = 2500;
    alert.ts_ms = 1'795'836'000'000;
    const auto facts = build_facts(a, {alert}, evening_tariff(), &alert);
    BOOST_TEST(facts["yesterday"]["kwh"] == 13.0);
    BOOST_TEST(facts["last_7_days"]["change_pct"] == 38.6);
    BOOST_TEST(facts["peak_hour"]["hour"] == 18);
    BOOST_TEST(facts["top_consumers"].dump() == R"(["hp-1","fridge-1"])");
    BOOST_TEST(facts["tariff"]["most_expensive_band"]["from"] == "17:00");
    BOOST_TEST(facts["alerts"].size() == 1u);
    BOOST_TEST(facts["focus"]["rule"] == "power_above");
    const auto request = build_prompt(facts, &alert);
    BOOST_REQUIRE(request.messages.size() == 2u);
    BOOST_TEST(request.messages[1].content.find("Facts: {") == 0u);
    BOOST_TEST(request.messages[1].content.find("rule power_above on device hp-1") != std::string::npos);
    BOOST_TEST(request.format["required"].dump() == R"(["summary","recommendations"])");
}

BOOST_AUTO_TEST_CASE(config_sections) {
    auto c = parse_config(
        "ollama:\n"
        "  url: http://pi.local:11434/\n"
        "  model: deepseek-r1:7b\n"
        "  connect_timeout: 2s\n"
        "  timeout: 10m\n"
        "  keep_alive: -1\n"
        "  max_answer_bytes: 64KB\n"
        "insights:\n"
        "  schedule: '30 6 * * mon-fri'\n"
        "  timezone: Europe/Berlin\n"
        "  tariff:\n"
        "    per_kwh: 0.32\n"
        "    bands: [{from: '17:00', to: '21:00', per_kwh: 0.45}, {from: '22:00', to: '24:00', per_kwh: 0.2}]\n"
        "  on_demand_per_device_per_day: 2\n",
        "test.yaml");
    BOOST_TEST(c.ollama.url == "http://pi.local:11434");
    BOOST_TEST(c.ollama.model == "deepseek-r1:7b");
    BOOST_TEST(c.ollama.timeout.count() == 600'000);
    BOOST_TEST(c.ollama.keep_alive_seconds == -1);
    BOOST_TEST(c.ollama.max_answer_bytes == 65536u);
    BOOST_TEST(c.insights.schedule == "30 6 * * mon-fri");
    BOOST_REQUIRE(c.insights.tariff.bands.size() == 2u);
    BOOST_TEST(c.insights.tariff.bands[1].to_hour == 0);
    BOOST_TEST(c.insights.on_demand_per_device_per_day == 2);
    BOOST_TEST(c.insights.client_id == "energyhub-insights");  // default

    BOOST_TEST(config_error("insights:\n  schedule: '0 25 * * *'\n") ==
               "test.yaml:2: insights.schedule: hour field '25': 25 is out of range 0-23");
    BOOST_TEST(config_error("insights:\n  timezone: Mars/Base\n") ==
               "test.yaml:2: insights.timezone: unknown time zone 'Mars/Base' (use a name such as Europe/Berlin)");
    BOOST_TEST(config_error("insights:\n  tariff: {bands: [{from: '17:30', to: '21:00', per_kwh: 1}]}\n") ==
               "test.yaml:2: insights.tariff.bands[0].from: must be a whole hour (costs come from the hourly rollup)");
    BOOST_TEST(config_error("insights:\n  tariff:\n    bands:\n      - {from: '17:00', to: '21:00', per_kwh: 1}\n"
                            "      - {from: '20:00', to: '22:00', per_kwh: 1}\n") ==
               "test.yaml:5: insights.tariff.bands[1]: overlaps another band");
    BOOST_TEST(config_error("insights:\n  tariff: {bands: [{from: '17:00', until: '21:00', per_kwh: 1}]}\n") ==
               "test.yaml:2: insights.tariff.bands[0].until: unknown key");
    BOOST_TEST(config_error("insights:\n  tariff: {bands: [{[from]: '17:00', to: '21:00', per_kwh: 1}]}\n") ==
               "test.yaml:2: insights.tariff.bands[0]: a key must be a name, not a list or mapping");
    BOOST_TEST(config_error("insights:\n  tariff: {per_kwh: .inf}\n") == "test.yaml:2: insights.tariff.per_kwh: must be a finite number");
    BOOST_TEST(config_error("insights:\n  cron: '0 7 * * *'\n") == "test.yaml:2: insights.cron: unknown key");
    BOOST_TEST(config_error("ollama:\n  url: ftp://x\n") ==
               "test.yaml:2: ollama.url: must start with http:// or https:// (or be empty for rules only)");
    BOOST_TEST(config_error("ollama:\n  keep_alive: soon\n") ==
               "test.yaml:2: ollama.keep_alive: must be a duration such as 30m, 0s, or -1 for forever");
    BOOST_TEST(config_error("ollama:\n  retries: 50\n") == "test.yaml:2: ollama.retries: must be between 0 and 10");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

class OneUserRepository final : public InsightRepository {
public:
    std::vector<std::string> users(const std::string&) override { return {"alice"}; }
    UsageData usage(const std::string&, std::int64_t) override { return sample_usage(); }
    std::vector<Alert> alerts(const std::string&, std::int64_t, std::int64_t, std::size_t) override { return {}; }
    void store(Insight& insight) override { insight.id = ++stored; }
    std::vector<Insight> latest(const std::string&, std::size_t) override { return {}; }
    bool claim_on_demand(const Alert&, int, std::int64_t) override { return true; }
    std::optional<std::int64_t> last_slot(const std::string&) override { return std::nullopt; }
    void init_slot(const std::string&, std::int64_t) override {}
    bool claim_slot(const std::string&, std::int64_t) override { return true; }
    void prune(std::int64_t) override {}
    std::int64_t stored = 0;
};

// Answers with the queued results, then with kAdvice.
class ScriptedModel final : public energyhub::insights::ChatClient {
public:
    std::vector<energyhub::insights::ChatResult> script;
    int calls = 0;
    energyhub::insights::ChatResult chat(const energyhub::insights::ChatRequest&) override {
        ++calls;
        if (!script.empty()) {
            auto r = script.front();
            script.erase(script.begin());
            return r;
        }
        energyhub::insights::ChatResult ok;
        ok.status = energyhub::insights::ChatStatus::ok;
        ok.content = kAdvice;
        return ok;
    }
    std::string source() const override { return "ollama:test-model"; }
};

energyhub::insights::ChatResult failed(
    long http_status, energyhub::insights::ChatStatus status = energyhub::insights::ChatStatus::error) {
    energyhub::insights::ChatResult r;
    r.status = status;
    r.http_status = http_status;
    r.error = "HTTP " + std::to_string(http_status);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(insight_generator)

BOOST_AUTO_TEST_CASE(fallbacks_are_counted_by_reason_and_logged_once_per_episode) {
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
    auto log = spdlog::get("insights");
    const auto level = log->level();
    const auto sinks = log->sinks();
    log->sinks() = {sink};  // only the test's
    log->set_level(spdlog::level::debug);

    InsightsConfig config;
    OneUserRepository repository;
    ScriptedModel model;
    ManualClock clock;
    InsightGenerator generator(
        config, repository, &model, [](const std::string&, const std::string&) { return true; }, clock);
    // Two runs with the model missing (404), one that times out, then the model answers.
    model.script = {failed(404), failed(404), failed(0, energyhub::insights::ChatStatus::timeout)};
    for (int run = 0; run < 4; ++run) {
        generator.retry_model();
        auto insight = generator.generate("alice", nullptr);
        BOOST_TEST(insight.advice.source == (run < 3 ? "rules" : "ollama:test-model"));
        generator.generate("alice", nullptr);  // the rest of a run skips a model that failed
    }
    BOOST_TEST(model.calls == 5);
    BOOST_TEST(generator.fallbacks(FallbackReason::model_missing) == 4u);
    BOOST_TEST(generator.fallbacks(FallbackReason::timeout) == 2u);
    BOOST_TEST(generator.fallbacks(FallbackReason::unreachable) == 0u);

    std::vector<std::string> warnings, infos;
    for (const auto& line : sink->last_formatted()) {
        if (line.find("[warning]") != std::string::npos) warnings.push_back(line);
        if (line.find("answers again") != std::string::npos) infos.push_back(line);
    }
    log->sinks() = sinks;
    log->set_level(level);
    BOOST_REQUIRE_EQUAL(warnings.size(), 1u);  // the episode's first failure only
    BOOST_TEST(warnings[0].find("model_missing") != std::string::npos);
    BOOST_TEST(warnings[0].find("ollama pull test-model") != std::string::npos);
    BOOST_REQUIRE_EQUAL(infos.size(), 1u);
    BOOST_TEST(infos[0].find("after 6 insight(s)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_users_newest_insight_is_published_again_page_by_page) {
    // More users than one page holds: each is published once, with its stored message.
    struct ManyUsers final : public InsightRepository {
        std::vector<std::string> users(const std::string&) override { return {}; }
        UsageData usage(const std::string&, std::int64_t) override { return {}; }
        std::vector<Alert> alerts(const std::string&, std::int64_t, std::int64_t, std::size_t) override { return {}; }
        void store(Insight&) override {}
        std::vector<Insight> latest(const std::string& after, std::size_t limit) override {
            std::vector<Insight> out;
            for (int n = 0; n < 1200 && out.size() < limit; ++n) {
                Insight i;
                i.user_id = fmt::format("u{:04}", n);
                i.id = n;
                if (i.user_id > after) out.push_back(std::move(i));
            }
            return out;
        }
        bool claim_on_demand(const Alert&, int, std::int64_t) override { return true; }
        std::optional<std::int64_t> last_slot(const std::string&) override { return std::nullopt; }
        void init_slot(const std::string&, std::int64_t) override {}
        bool claim_slot(const std::string&, std::int64_t) override { return true; }
        void prune(std::int64_t) override {}
    } repository;
    InsightsConfig config;
    ManualClock clock;
    std::map<std::string, std::string> published;
    InsightGenerator generator(
        config, repository, nullptr,
        [&](const std::string& topic, const std::string& payload) { return published.emplace(topic, payload).second; },
        clock);
    std::atomic<bool> stop{false};
    BOOST_TEST(generator.republish_latest(stop) == 1200u);
    BOOST_REQUIRE(published.size() == 1200u);
    BOOST_TEST(published.begin()->first == "insights/u0000");
    BOOST_TEST(nlohmann::json::parse(published.rbegin()->second)["id"] == 1199);
    stop = true;
    BOOST_TEST(generator.republish_latest(stop) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// Users whose usage can be read, one whose storage fails.
class ThreeUserRepository final : public InsightRepository {
public:
    std::vector<std::string> users(const std::string& only) override {
        std::vector<std::string> all{"alice", "broken", "bob"};
        if (only.empty()) return all;
        return std::find(all.begin(), all.end(), only) != all.end() ? std::vector<std::string>{only}
                                                                    : std::vector<std::string>{};
    }
    UsageData usage(const std::string& user, std::int64_t) override {
        if (user == "broken") throw std::runtime_error("connection lost");
        auto d = sample_usage();
        d.user_id = user;
        return d;
    }
    std::vector<Alert> alerts(const std::string&, std::int64_t, std::int64_t, std::size_t) override { return {}; }
    void store(Insight& insight) override { stored.push_back(insight.user_id); }
    std::vector<Insight> latest(const std::string&, std::size_t) override { return {}; }
    bool claim_on_demand(const Alert&, int, std::int64_t) override { return true; }
    std::optional<std::int64_t> last_slot(const std::string&) override { return std::nullopt; }
    void init_slot(const std::string&, std::int64_t) override {}
    bool claim_slot(const std::string&, std::int64_t) override { return true; }
    void prune(std::int64_t) override { ++prunes; }
    std::vector<std::string> stored;
    int prunes = 0;
};

struct SchedulerFixture {
    InsightsConfig config;
    ThreeUserRepository repository;
    ManualClock clock;
    InsightGenerator generator{config, repository, nullptr, [](const std::string&, const std::string&) { return true; },
                               clock};
    FixedOffset zone{0};
    int storage_errors = 0;
    InsightScheduler scheduler{config, repository, generator, zone, clock, [this] { ++storage_errors; }};
    std::atomic<bool> stop{false};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(insight_scheduler, SchedulerFixture)

BOOST_AUTO_TEST_CASE(a_cycle_covers_every_user_and_a_storage_error_spoils_only_its_user) {
    const auto r = scheduler.run_cycle("", stop);
    BOOST_TEST(r.users == 3);
    BOOST_TEST(r.failed == 1);
    BOOST_TEST(r.from_rules == 2);
    BOOST_TEST(r.from_model == 0);
    BOOST_TEST(storage_errors == 1);  // the connection is dropped and made again
    const std::vector<std::string> want{"alice", "bob"};
    BOOST_TEST(repository.stored == want, boost::test_tools::per_element());
    BOOST_TEST(repository.prunes == 1);
}

BOOST_AUTO_TEST_CASE(one_user_on_request_and_an_unknown_one_said_so) {
    auto r = scheduler.run_cycle("bob", stop);
    BOOST_TEST(r.users == 1);
    BOOST_TEST(repository.stored == std::vector<std::string>{"bob"}, boost::test_tools::per_element());
    r = scheduler.run_cycle("carol", stop);
    BOOST_TEST(r.unknown_user);
    BOOST_TEST(r.users == 0);
}

BOOST_AUTO_TEST_CASE(a_stop_ends_the_cycle_before_the_next_user) {
    stop = true;
    const auto r = scheduler.run_cycle("", stop);
    BOOST_TEST(r.users == 0);
    BOOST_TEST(repository.stored.empty());
}

BOOST_AUTO_TEST_SUITE_END()
