"""Raw HTTP for the fault tests of the server: exactly the bytes given (http.client would fix a
malformed request or refuse to send it), and every response that comes back."""
import json
import re
import socket
import time


def exchange(port, data, seconds=3):
    """Sends `data` on a new connection; returns (responses, closed): each response as
    (status, headers dict with lowercase names, body bytes), and whether the server closed the
    connection within `seconds`."""
    s = socket.create_connection(("127.0.0.1", port), timeout=seconds)
    received, closed = b"", False
    try:
        s.sendall(data)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received += chunk
    finally:
        s.close()
    return parse(received), closed


def parse(data):
    responses = []
    while data.startswith(b"HTTP/"):
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        responses.append((status, headers, rest[:length]))
        data = rest[length:]
    return responses


def error_code(body):
    """The `code` of the API's error shape {code, message, hint}, or None when the body is not it."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if not isinstance(value, dict) or not {"code", "message", "hint"} <= value.keys():
        return None
    if not re.match(r"^[a-z]", value["message"]):
        return None
    return value["code"]
