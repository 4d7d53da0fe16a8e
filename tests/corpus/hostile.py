#!/usr/bin/env python3
"""Writes the hostile-input corpus: for each payload format, at least 200 messages that the hub
must refuse, as JSON lines {"format", "topic", "payload" (latin-1 text of the raw bytes)}.

Every message is bad for a reason that does not depend on the registry: broken or truncated
JSON, a root that is not an object, nesting deeper than allowed, oversized, invalid UTF-8,
non-finite or non-numeric values, wrong types, timestamps far away, negative counters, and ids
with SQL or shell metacharacters in the topic. Deterministic (fixed seed).

Usage: hostile.py DEVICE_ID OUT_FILE
"""
import json
import random
import sys

device, out_path = sys.argv[1], sys.argv[2]
rng = random.Random(20261128)
HOSTILE_IDS = ["x';DROP TABLE readings;--", "$(reboot)", "`id`", "a b", "a|b", "..%2F..", "x" * 65, "ä-unicode",
               "semi;colon", "quote\"d", "back\\slash", "dollar$HOME", "star*", "amp&er"]
HUGE = "A" * (1 << 20)


def common_json_garbage(good: str):
    """Classes of broken JSON that any JSON adapter must refuse."""
    out = []
    for cut in range(1, len(good) - 1, max(1, len(good) // 150)):
        out.append(good[:cut])                       # truncated
    out += ["", " ", "{", "}", "[", "]", "null", "true", "42", "\"text\"", "[1,2,3]", "[{}]", "{]", "{\"a\":}",
            "{\"a\" 1}", "{'single':1}", "{\"a\":1,}", "{\"a\":1}}", "{\"a\":NaN}", "{\"a\":Infinity}",
            "{\"a\":-Infinity}", "{\"a\":1e999999}", "{\"a\":01}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":0x10}",
            "{" * 5000, "[" * 5000 + "]" * 5000, "{\"a\":" + "[" * 200 + "]" * 200 + "}",
            "{\"a\":\"\xff\xfe\xfd\"}", "\xef\xbb\xbf{\"a\":1}", "{\"a\":\"\\ud800\"}", "{\"a\":\"" + HUGE + "\"}",
            good + "garbage", good + good]
    for _ in range(60):                                # random bytes
        n = rng.randint(1, 300)
        out.append("".join(chr(rng.randint(0, 255)) for _ in range(n)))
    return out


def native():
    good = '{"ts":1764324000000,"power_w":153.2,"energy_wh":12345.6,"voltage_v":230.1,"current_a":0.67}'
    msgs = [(f"energy/{device}/reading", p) for p in common_json_garbage(good)]
    for bad in ['{"power_w":"153"}', '{"power_w":true}', '{"power_w":null}', '{"power_w":[1]}', '{"energy_wh":-1}',
                '{"energy_wh":-0.001}', '{"voltage_v":230}', '{}', '{"ts":"yesterday","power_w":1}',
                '{"ts":"2001-01-01T00:00:00Z","power_w":1}', '{"ts":"2099-01-01T00:00:00Z","power_w":1}',
                '{"ts":1,"power_w":1}', '{"ts":99999999999999999,"power_w":1}', '{"ts":1.5,"power_w":1}',
                '{"power_w":1,"power_w":2}', '{"power_w":1e308,"energy_wh":-1e308}']:
        msgs.append((f"energy/{device}/reading", bad))
    msgs += [(f"energy/{h}/reading", '{"power_w":1}') for h in HOSTILE_IDS]
    return msgs


def tasmota():
    good = ('{"Time":"2023-05-19T20:52:56","ENERGY":{"TotalStartTime":"2022-03-20T15:20:48","Total":514.153,'
            '"Yesterday":1.495,"Today":0.537,"Power":56,"Voltage":234,"Current":0.392}}')
    msgs = [(f"tele/{device}/SENSOR", p) for p in common_json_garbage(good)]
    for bad in ['{"ENERGY":{"Total":-5,"Power":1}}', '{"ENERGY":{"Power":"56"}}', '{"ENERGY":{"Total":"x"}}',
                '{"ENERGY":[1,2]}', '{"ENERGY":"on"}', '{"ENERGY":{"Power":[1,"x"]}}']:
        msgs.append((f"tele/{device}/SENSOR", bad))
    msgs += [(f"tele/{h}/SENSOR", good) for h in HOSTILE_IDS]
    return msgs


def shelly():
    good = ('{"id":0,"source":"MQTT","output":true,"apower":10.7,"voltage":120.7,"current":0.133,'
            '"aenergy":{"total":46791.262,"by_minute":[73.921,177.749,177.749],"minute_ts":1682952864}}')
    msgs = [(f"{device}/status/switch:0", p) for p in common_json_garbage(good)]
    for bad in ['{"apower":"10"}', '{"aenergy":{"total":-3}}', '{"aenergy":"x"}', '{"apower":null,"aenergy":null}']:
        msgs.append((f"{device}/status/switch:0", bad))
    # A first topic level starting with "$" never matches "+" (MQTT): such messages never reach the hub.
    msgs += [(f"{h}/status/switch:0", good) for h in HOSTILE_IDS if "/" not in h and not h.startswith("$")]
    return msgs


def shelly_gen1():
    msgs = []
    for word in ["", "abc", "NaN", "nan", "inf", "-inf", "Infinity", "1e999", "1,5", "0x10", "--1", "1.2.3", "true",
                 "{\"power\":1}", "[1]", "\xff\xfe", HUGE[:70000], "12abc", "  ", "\0"]:
        msgs.append((f"shellies/{device}/relay/0/power", word))
        msgs.append((f"shellies/{device}/relay/0/energy", word))
    msgs.append((f"shellies/{device}/relay/0/energy", "-5"))
    while len(msgs) < 200:
        n = rng.randint(1, 40)
        junk = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz!@#$%^&*()_=+[]{};:'\",<>/? ") for _ in range(n))
        if any(c.isalpha() for c in junk):
            msgs.append((f"shellies/{device}/relay/{rng.randint(0, 3)}/power", junk))
    return msgs


with open(out_path, "w", encoding="utf-8") as out:
    for fmt, gen in [("native", native), ("tasmota", tasmota), ("shelly", shelly), ("shelly_gen1", shelly_gen1)]:
        msgs = gen()
        assert len(msgs) >= 200, (fmt, len(msgs))
        for topic, payload in msgs:
            out.write(json.dumps({"format": fmt, "topic": topic, "payload": payload}) + "\n")
