#!/usr/bin/python3
"""SMTP mail catcher for energyhub tests and the demo.

Accepts every message on a loopback port and stores it in a folder instead of delivering it:
  <mail-dir>/<name>.eml   the message exactly as received (DATA)
  <mail-dir>/<name>.json  {"mail_from", "rcpt_tos", "received", "peer", "helo", "auth_user",
                           "subject", "message_id", "size", "eml"}
Names sort in arrival order. The .json file is written before the .eml file and each is
written to a hidden temporary file first and then renamed, so a reader that sees NAME.eml
always sees a complete message and its NAME.json.

Fault injection: while the control file (default <mail-dir>/.fail) exists, DATA is answered
with the SMTP reply it holds instead of being stored, e.g. "451" (or an empty file) gives
"451 try later", "554" gives "554 message rejected" and "550 mailbox unavailable" is sent as
is. The file is read for every message; remove it to accept mail again.

While <mail-dir>/.hold exists, a message is stored and then its "250" reply is held back (up
to 60 s) until the file is removed: the moment when the server has the message and the client
does not know it yet, which a test uses to stop the client in between.

Any AUTH PLAIN/LOGIN credentials are accepted without TLS (this is a test server), and the
user name is recorded, so a client configured with credentials works unchanged.

With --http-port, the caught mail can be read in a browser: / lists it (newest first),
/messages/NAME shows one message's text part, /messages/NAME.eml the message as received, and
/messages.json the stored metadata, like a Mailpit inbox. Loopback only, no JavaScript.

Uses aiosmtpd's threaded Controller (Debian python3-aiosmtpd 1.4). Runs in the foreground until
SIGTERM or SIGINT; --pidfile is written once the port accepts connections and removed on exit.
"""

import argparse
import asyncio
import datetime
import email.parser
import email.policy
import html
import http.server
import itertools
import json
import logging
import os
import re
import signal
import sys
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

log = logging.getLogger("mailcatcher")

DEFAULT_TEXT = {"4": "try later", "5": "message rejected"}
HOLD_LIMIT_S = 60


def write_atomically(path, data):
    """Write bytes to path through a hidden temporary file in the same folder and a rename."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, ".%s.%s.tmp" % (name, uuid.uuid4().hex[:8]))
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def text(value):
    """Decode bytes from the SMTP session for JSON; other values pass through."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


class MailFolderHandler:
    def __init__(self, mail_dir, fail_file):
        self.mail_dir = mail_dir
        self.fail_file = fail_file
        self.hold_file = os.path.join(mail_dir, ".hold")
        self.counter = itertools.count(1)
        # Names carry a per-run token so a restarted catcher never reuses a name.
        self.run_token = uuid.uuid4().hex[:6]

    def failure_reply(self):
        """The SMTP reply configured in the control file, or None to accept the message."""
        try:
            with open(self.fail_file, encoding="utf-8", errors="replace") as f:
                content = f.read().strip()
        except FileNotFoundError:
            return None
        except OSError as e:
            log.warning("cannot read %s (%s); answering 451", self.fail_file, e)
            return "451 try later"
        if not content:  # an empty control file just means "fail temporarily"
            return "451 try later"
        first_line = content.splitlines()[0].strip()
        match = re.fullmatch(r"([45]\d\d)(?:[ \t]+(.*))?", first_line)
        if not match:
            log.warning("%s holds %r, not a 4xx/5xx reply code; answering 451", self.fail_file, first_line)
            return "451 try later"
        code, reply_text = match.group(1), match.group(2)
        return "%s %s" % (code, reply_text or DEFAULT_TEXT[code[0]])

    async def handle_DATA(self, server, session, envelope):
        reply = self.failure_reply()
        if reply is not None:
            log.info("refusing message from %s to %s: %s", envelope.mail_from, envelope.rcpt_tos, reply)
            return reply

        content = envelope.original_content
        if content is None:
            content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        now = datetime.datetime.now(datetime.timezone.utc)
        name = "%s-%06d-%s" % (now.strftime("%Y%m%dT%H%M%S.%fZ"), next(self.counter), self.run_token)

        subject = message_id = None
        try:
            headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(content)
            subject = str(headers["Subject"]) if headers["Subject"] is not None else None
            message_id = str(headers["Message-ID"]) if headers["Message-ID"] is not None else None
        except Exception as e:  # a malformed header must not lose the message
            log.warning("cannot parse headers of %s: %s", name, e)

        auth_user = None
        if session.auth_data is not None:
            auth_user = text(getattr(session.auth_data, "login", None))
        peer = session.peer[0] if isinstance(session.peer, tuple) else session.peer

        meta = {
            "mail_from": text(envelope.mail_from),
            "rcpt_tos": [text(r) for r in envelope.rcpt_tos],
            "received": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "peer": peer,
            "helo": text(session.host_name),
            "auth_user": auth_user,
            "subject": subject,
            "message_id": message_id,
            "size": len(content),
            "eml": name + ".eml",
        }
        try:
            write_atomically(os.path.join(self.mail_dir, name + ".json"),
                             (json.dumps(meta, indent=2) + "\n").encode())
            write_atomically(os.path.join(self.mail_dir, name + ".eml"), content)
        except OSError as e:
            log.error("cannot store message %s: %s", name, e)
            return "451 cannot store message"
        log.info("stored %s.eml from %s to %s (%d bytes)", name, meta["mail_from"], meta["rcpt_tos"], len(content))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HOLD_LIMIT_S
        while os.path.exists(self.hold_file) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return "250 OK stored as %s" % name


NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def stored_messages(mail_dir):
    """Metadata of every stored message, newest first, each with its file name stem."""
    out = []
    for entry in sorted(os.listdir(mail_dir), reverse=True):
        if entry.endswith(".json") and not entry.startswith("."):
            try:
                with open(os.path.join(mail_dir, entry)) as f:
                    meta = json.load(f)
            except (OSError, ValueError):
                continue
            meta["name"] = entry[:-len(".json")]
            out.append(meta)
    return out


def readable_text(raw):
    """The text/plain part of a message (or its HTML part), decoded."""
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    part = msg.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else raw.decode("utf-8", errors="replace")


def inbox_handler(mail_dir):
    class Inbox(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # requests are not worth a log line each
            pass

        def send(self, status, content_type, body):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/":
                rows = "".join(
                    "<tr><td>%s</td><td>%s</td><td>%s</td><td><a href=\"/messages/%s\">%s</a></td></tr>" % (
                        html.escape(m.get("received", "")), html.escape(m.get("mail_from", "")),
                        html.escape(", ".join(m.get("rcpt_tos", []))), html.escape(m["name"]),
                        html.escape(m.get("subject") or "(no subject)"))
                    for m in stored_messages(mail_dir))
                page = ("<!doctype html><meta charset=utf-8><title>energyhub mail</title>"
                        "<style>body{font:14px sans-serif;margin:2em}td,th{padding:4px 10px;text-align:left}"
                        "tr:nth-child(even){background:#f3f3f3}</style><h1>Caught mail</h1>"
                        "<table><tr><th>received</th><th>from</th><th>to</th><th>subject</th></tr>%s</table>"
                        % (rows or "<tr><td colspan=4>nothing yet</td></tr>"))
                return self.send(200, "text/html; charset=utf-8", page)
            if path == "/messages.json":
                return self.send(200, "application/json", json.dumps(stored_messages(mail_dir), indent=1))
            if path.startswith("/messages/"):
                name = path[len("/messages/"):]
                raw_wanted = name.endswith(".eml")
                stem = name[:-len(".eml")] if raw_wanted else name
                eml = os.path.join(mail_dir, stem + ".eml")
                if NAME_RE.match(stem) and not stem.startswith(".") and os.path.isfile(eml):
                    with open(eml, "rb") as f:
                        raw = f.read()
                    if raw_wanted:
                        return self.send(200, "message/rfc822", raw)
                    return self.send(200, "text/plain; charset=utf-8", readable_text(raw))
            self.send(404, "text/plain; charset=utf-8", "not found\n")

    return Inbox


def accept_any_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True, auth_data=auth_data)


def write_pidfile(path):
    write_atomically(path, ("%d\n" % os.getpid()).encode())


def remove_pidfile(path):
    """Remove the pid file, but only if it still names this process."""
    try:
        with open(path) as f:
            if f.read().strip() == str(os.getpid()):
                os.unlink(path)
    except OSError:
        pass


def main():
    parser = argparse.ArgumentParser(description="Store every SMTP message received as an .eml file.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=10025, help="port to listen on (default 10025)")
    parser.add_argument("--mail-dir", required=True, help="folder the .eml and .json files are written to")
    parser.add_argument("--fail-file", help="control file holding an SMTP reply for DATA (default MAIL_DIR/.fail)")
    parser.add_argument("--pidfile", help="write the process id here once listening")
    parser.add_argument("--http-port", type=int, default=0, help="serve the caught mail over HTTP here (0: no)")
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # aiosmtpd logs every SMTP command at INFO; keep its warnings only, except the one it
    # logs about its own deprecated login_data attribute after every successful AUTH.
    aiosmtpd_log = logging.getLogger("mail.log")
    aiosmtpd_log.setLevel(logging.WARNING)
    aiosmtpd_log.addFilter(lambda record: "login_data is deprecated" not in record.getMessage())

    mail_dir = os.path.abspath(args.mail_dir)
    os.makedirs(mail_dir, exist_ok=True)
    fail_file = args.fail_file or os.path.join(mail_dir, ".fail")

    handler = MailFolderHandler(mail_dir, fail_file)
    controller = Controller(handler, hostname=args.host, port=args.port,
                            server_hostname="mailcatcher.energyhub.invalid",
                            authenticator=accept_any_login, auth_require_tls=False)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    try:
        controller.start()
    except Exception as e:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, e)
        return 1
    inbox = None
    if args.http_port:
        try:
            inbox = http.server.ThreadingHTTPServer((args.host, args.http_port), inbox_handler(mail_dir))
        except OSError as e:
            controller.stop()
            log.error("cannot serve the inbox on %s:%d: %s", args.host, args.http_port, e)
            return 1
        threading.Thread(target=inbox.serve_forever, daemon=True).start()
        log.info("inbox at http://%s:%d/", args.host, args.http_port)
    if args.pidfile:
        write_pidfile(args.pidfile)
    log.info("listening on %s:%d, storing mail in %s (control file %s)", args.host, args.port, mail_dir, fail_file)
    try:
        while not stop.wait(3600):
            pass
    finally:
        if inbox:
            inbox.shutdown()
        controller.stop()
        if args.pidfile:
            remove_pidfile(args.pidfile)
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
