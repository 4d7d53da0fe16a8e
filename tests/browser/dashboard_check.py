#!/usr/bin/env python3
"""Loads the hub's dashboard in headless Chromium through chromedriver (the W3C WebDriver protocol,
spoken with the standard library only), waits until a device's live power changes on the page,
checks the alerts and insight panels, switches one device's chart to 7 days and counts its daily
bars, and saves a screenshot.

Usage: dashboard_check.py --driver http://127.0.0.1:PORT --url URL --screenshot FILE
                          --profile DIR [--alert TEXT] [--insight TEXT] [--week DEVICE] [--timeout S]
Exits 0 when every check passed; prints one line per step.
"""
import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.request

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,900"]


class WebDriver:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.session = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path}: {e.code} {e.read()[:400]!r}") from None

    def start(self, profile):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]},
        }}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def s(self, path):
        return f"/session/{self.session}{path}"

    def run(self, script, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def quit(self):
        if self.session:
            try:
                self.call("DELETE", self.s(""))
            except Exception:  # the browser may be gone already
                pass


POWERS = """
return Array.from(document.querySelectorAll('article.device')).map(a => [a.dataset.device,
    a.querySelector('.value').dataset.power || '', a.querySelectorAll('svg rect').length]);
"""


def wait(what, timeout, probe):
    deadline = time.time() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.time() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--driver", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--screenshot", required=True)
    p.add_argument("--profile", required=True)
    p.add_argument("--alert", default="")
    p.add_argument("--insight", default="")
    p.add_argument("--week", default="", help="a device with a week of history: its 7 d view must show 7 daily bars")
    p.add_argument("--timeout", type=float, default=40)
    a = p.parse_args()

    d = WebDriver(a.driver)
    try:
        d.start(a.profile)
        d.call("POST", d.s("/url"), {"url": a.url})
        print("loaded", d.run("return document.title"), "at", a.url.split("#")[0])

        first = wait("devices with live power", a.timeout,
                     lambda: {dev: power for dev, power, _ in d.run(POWERS) if power} or None)
        print("first powers:", json.dumps(first, sort_keys=True))

        def changed():
            now = {dev: power for dev, power, _ in d.run(POWERS) if power}
            moved = {dev: (first[dev], now[dev]) for dev in now if dev in first and now[dev] != first[dev]}
            return moved or None
        moved = wait("a device's live power to change", a.timeout, changed)
        dev, (before, after) = sorted(moved.items())[0]
        print(f"live power of {dev} changed on the page: {before} W -> {after} W")

        bars = wait("the 24-hour chart", a.timeout, lambda: max(n for _, _, n in d.run(POWERS)) or None)
        print(f"24-hour chart drawn: {bars} hourly bars on the busiest card")

        if a.alert:
            text = wait("the alert", a.timeout,
                        lambda: (t := d.run("return document.getElementById('alerts').innerText")) and a.alert in t and t)
            print("alerts panel:", " | ".join(text.split("\n")))
        if a.insight:
            text = wait("the insight", a.timeout,
                        lambda: (t := d.run("return document.getElementById('insights').innerText")) and a.insight in t and t)
            print("insight panel:", " | ".join(text.split("\n"))[:200])

        if a.week:
            card = f"article.device[data-device='{a.week}']"
            clicked = d.run(f"const b = document.querySelector(\"{card} button[data-range='7']\");"
                            " if (!b) return false; b.click(); return true;")
            if not clicked:
                raise RuntimeError(f"no 7 d button on the card of {a.week}")
            days = wait("7 daily bars", a.timeout, lambda: (n := d.run(
                f"return Array.from(document.querySelectorAll(\"{card} svg rect.day\")).map(r => r.dataset.day);"))
                and len(n) == 7 and n)
            if len(set(days)) != 7:
                raise RuntimeError(f"the daily bars are not 7 different days: {days}")
            label = d.run(f"return document.querySelector(\"{card} .peak\").textContent")
            print(f"7 d view of {a.week}: {len(days)} daily bars, {days[0]} .. {days[-1]}; {label}")

        status = d.run("return document.getElementById('status-text').textContent")
        if not status.startswith("live"):
            raise RuntimeError(f"status line says {status!r}")
        time.sleep(1.5)  # let the flash of the last change fade before the picture
        png = base64.b64decode(d.call("GET", d.s("/screenshot")))
        with open(a.screenshot, "wb") as f:
            f.write(png)
        print(f"screenshot: {a.screenshot} ({len(png)} bytes)")
        return 0
    except Exception as e:  # one line for the test log
        print(f"FAIL: {e}", file=sys.stderr)
        try:
            png = base64.b64decode(d.call("GET", d.s("/screenshot")))
            with open(a.screenshot, "wb") as f:
                f.write(png)
            print(f"screenshot of the failure: {a.screenshot}", file=sys.stderr)
        except Exception:
            pass
        return 1
    finally:
        d.quit()


if __name__ == "__main__":
    sys.exit(main())
