#!/usr/bin/env python3
"""A TCP forwarder for fault tests: listen on one port, forward every connection to another.

Killing it closes every forwarded connection at once, so a client behind it sees its server
vanish while the real server keeps running for everyone else; starting it again on the same port
brings the server back.

Usage: tcp_proxy.py LISTEN_PORT TARGET_HOST TARGET_PORT   (listens on 127.0.0.1)
"""
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, target):
    try:
        upstream = socket.create_connection(target, timeout=5)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    listen_port, target = int(sys.argv[1]), (sys.argv[2], int(sys.argv[3]))
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    while True:
        client, _ = server.accept()
        serve(client, target)


if __name__ == "__main__":
    main()
