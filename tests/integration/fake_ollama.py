#!/usr/bin/env python3
"""A stand-in for an Ollama server, for the insight tests: GET /api/tags and POST /api/chat
(non-streaming) as Ollama documents them. Python standard library only.

The model name of a chat request picks the behaviour (a ":latest" tag is ignored):

  good, deepseek-r1   structured advice (JSON in message.content) about the devices in the facts
  think               the same after an inline <think>...</think> block
  think-unopened      reasoning without the opening tag, then </think>, then the advice
  think-only          reasoning that never ends (no answer at all)
  fenced              the advice inside a ```json code fence
  text                plain prose: the model ignored the requested format
  badcontent          message.content is cut-off JSON
  badjson             the HTTP body itself is not JSON
  slow                no answer for --slow-seconds (a cold model load), then the advice
  error500            HTTP 500 with {"error": ...}, as when the model runner dies
  flaky               HTTP 500 for the first request of each run of the server, then good
  huge                an answer of several megabytes
  anything else       HTTP 404 {"error": "model ... not found"}

Every chat request is appended to --log as one JSON line {"model", "body", "at"}.

Usage: fake_ollama.py --port-file FILE --log FILE [--slow-seconds N]
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ["deepseek-r1", "good", "think", "think-unopened", "think-only", "fenced", "text", "badcontent",
          "badjson", "slow", "error500", "flaky", "huge"]


def facts_of(body):
    """The facts JSON the hub put after 'Facts: ' in the user message."""
    for message in body.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content", "")
        start = content.find("Facts: ")
        if start < 0:
            continue
        line = content[start + len("Facts: "):].split("\n", 1)[0]
        try:
            return json.loads(line)
        except ValueError:
            return {}
    return {}


def advice_for(facts):
    devices = [d for d in facts.get("devices") or [] if d.get("kwh_7d")] or [{"device_id": "household", "kwh_7d": 0}]
    focus = facts.get("focus")
    ordered = list(devices)
    if focus:
        ordered.sort(key=lambda d: d.get("device_id") != focus.get("device_id"))
    recommendations = []
    for device in (ordered * 3)[:3]:
        saving = round(float(device.get("kwh_7d") or 0) * 0.1 * 30 / 7, 1)
        recommendations.append({
            "title": "Tune %s" % device["device_id"],
            "action": "Run %s in eco mode and switch it off when not needed." % device["device_id"],
            "device_id": device["device_id"],
            "estimated_saving_kwh_per_month": saving,
        })
    week = (facts.get("last_7_days") or {}).get("kwh", 0)
    return {"summary": "You used %s kWh in the last 7 days." % week, "recommendations": recommendations}


class State:
    lock = threading.Lock()
    flaky_failed = False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-ollama/1"

    def log_message(self, fmt, *args):  # quiet: the request log is the record
        pass

    def send_json(self, status, obj=None, raw=None):
        data = raw if raw is not None else json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): that is what some tests want

    def do_GET(self):
        if self.path != "/api/tags":
            self.send_json(404, {"error": "not found"})
            return
        models = [{
            "name": name + ":latest",
            "model": name + ":latest",
            "modified_at": "2026-11-01T10:00:00.000000000Z",
            "size": 4920753328,
            "digest": "%064x" % i,
            "details": {"parent_model": "", "format": "gguf", "family": "qwen2", "families": ["qwen2"],
                        "parameter_size": "7.6B", "quantization_level": "Q4_K_M"},
        } for i, name in enumerate(MODELS)]
        self.send_json(200, {"models": models})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path != "/api/chat":
            self.send_json(404, {"error": "not found"})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.send_json(400, {"error": "invalid JSON in request"})
            return
        model = str(body.get("model", "")).split(":", 1)[0]
        with State.lock:
            with open(self.server.request_log, "a") as log:
                log.write(json.dumps({"model": model, "body": body, "at": time.time()}) + "\n")

        advice = json.dumps(advice_for(facts_of(body)))
        if model in ("good", "deepseek-r1"):
            content = advice
        elif model == "think":
            content = "<think>\nThe user wants advice. Maybe {\"summary\": \"not this\"}.\n</think>\n\n" + advice
        elif model == "think-unopened":
            content = "Let me look at the devices first.\n</think>\n" + advice
        elif model == "think-only":
            content = "<think>\nThe fridge uses a lot, and the heat pump"
        elif model == "fenced":
            content = "```json\n" + advice + "\n```"
        elif model == "text":
            content = "Switch off the kettle when it is not needed, and run the dishwasher at night."
        elif model == "badcontent":
            content = advice[: len(advice) // 2]
        elif model == "badjson":
            self.send_json(200, raw=b'{"model": "badjson", "message": {"role": "assistant", "content": "')
            return
        elif model == "slow":
            time.sleep(self.server.slow_seconds)
            content = advice
        elif model == "error500":
            self.send_json(500, {"error": "llama runner process has terminated: exit status 2"})
            return
        elif model == "flaky":
            with State.lock:
                fail = not State.flaky_failed
                State.flaky_failed = True
            if fail:
                self.send_json(500, {"error": "model is loading"})
                return
            content = advice
        elif model == "huge":
            content = "x" * (4 << 20)
        else:
            self.send_json(404, {"error": "model \"%s\" not found, try pulling it first" % model})
            return
        self.send_json(200, {
            "model": body.get("model"),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime()),
            "message": {"role": "assistant", "content": content},
            "done_reason": "stop",
            "done": True,
            "total_duration": 1200000000,
            "load_duration": 20000000,
            "prompt_eval_count": 310,
            "prompt_eval_duration": 300000000,
            "eval_count": 180,
            "eval_duration": 880000000,
        })


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--slow-seconds", type=float, default=30)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_log = args.log
    server.slow_seconds = args.slow_seconds
    open(args.log, "a").close()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
