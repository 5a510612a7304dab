#!/usr/bin/env python3
"""A local stand-in for Apple's APNs provider API: HTTP/2 over TLS (h2, a
self-signed certificate for 127.0.0.1 written to --cert), one JSON line per
request in --log (headers, body, status). Device tokens starting with `dead`
answer 410 Unregistered, `bad0` 400 BadDeviceToken, `busy` 429
TooManyRequests; the rest 200 with an apns-id. Prints "listening PORT"."""
import argparse
import datetime
import ipaddress
import json
import socket
import ssl
import threading
import uuid

import h2.config
import h2.connection
import h2.events
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certificate(cert_path, key_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def answer(path):
    token = path.rsplit("/", 1)[-1]
    if token.startswith("dead"):
        return 410, {"reason": "Unregistered", "timestamp": 0}
    if token.startswith("bad0"):
        return 400, {"reason": "BadDeviceToken"}
    if token.startswith("busy"):
        return 429, {"reason": "TooManyRequests"}
    return 200, None


def serve(sock, log, lock):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    streams = {}
    try:
        while True:
            data = sock.recv(65535)
            if not data:
                return
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    streams[event.stream_id] = {"headers": dict(event.headers), "body": b""}
                elif isinstance(event, h2.events.DataReceived):
                    streams[event.stream_id]["body"] += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    request = streams.pop(event.stream_id)
                    status, reason = answer(request["headers"].get(":path", ""))
                    with lock:
                        log.write(json.dumps({"headers": request["headers"], "body": request["body"].decode(),
                                              "status": status, "http2": True}) + "\n")
                        log.flush()
                    body = json.dumps(reason).encode() if reason else b""
                    headers = [(":status", str(status)), ("apns-id", str(uuid.uuid4()).upper())]
                    if body:
                        headers.append(("content-type", "application/json"))
                        headers.append(("content-length", str(len(body))))
                    conn.send_headers(event.stream_id, headers, end_stream=not body)
                    if body:
                        conn.send_data(event.stream_id, body, end_stream=True)
            sock.sendall(conn.data_to_send())
    except (OSError, ssl.SSLError):
        return
    finally:
        sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--cert", required=True)
    args = parser.parse_args()
    key_path = args.cert + ".key"
    make_certificate(args.cert, key_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, key_path)
    context.set_alpn_protocols(["h2"])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(f"listening {listener.getsockname()[1]}", flush=True)
    log, lock = open(args.log, "a"), threading.Lock()
    while True:
        raw, _ = listener.accept()
        try:
            tls = context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            continue
        if tls.selected_alpn_protocol() != "h2":
            tls.close()  # APNs speaks HTTP/2 only
            continue
        threading.Thread(target=serve, args=(tls, log, lock), daemon=True).start()


if __name__ == "__main__":
    main()
