#pragma once
// The hub's live dashboard and its read-only JSON API, on the hub's HTTP listener:
//
//   GET /                                  the dashboard: one static page (inline CSS and JS, no
//                                          external assets) that polls the API every 2 s
//   GET /api/devices[?user=U]              devices and channels: live power, last reading, today's kWh
//   GET /api/devices/<id>/usage?since=24h  the hourly rollup of a device or channel (since: 1h..31d)
//   GET /api/alerts[?user=U]               alerts that are firing
//   GET /api/insights/<user>[?limit=N]     the user's latest insights (none if the insights daemon
//                                          has never run here)
//
// Answers are JSON; errors are {"error": "..."} with 400 (bad parameter), 404 (unknown device) or
// 503 (database unavailable). Bound to loopback by default; elsewhere the listener requires
// http.token as "Authorization: Bearer <token>" for the API, while the page itself (which holds
// no data) is served to anyone and asks for the token.
#include <string_view>

#include "config/config.hpp"
#include "http/http_server.hpp"

namespace energyhub {

// Registers the page and the API routes; call before server.start(). Handlers share one
// PostgreSQL session (postgres/dashboard_queries.hpp).
void add_dashboard_routes(HttpServer& server, const Config& config);

// The page (service/dashboard.html, compiled in).
std::string_view dashboard_page();

}  // namespace energyhub
