"""`gazette review` for real (Voilà in a subprocess, plain HTTP): only a request naming the
server as localhost, from this server's own pages, with the token of this run, reaches the
app and its kernels (issue 14, C: a DNS-rebinding page once wrote a correction)."""

from __future__ import annotations

import base64
import http.client
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.review.app import KERNEL_IDLE_SECONDS

from .conftest import review_server


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    return response


def _open_kernel_socket(port: int, kernel: str, origin: str, cookies: str) -> int:
    """The status of a websocket handshake on the kernel's channels (101: open)."""
    key = base64.b64encode(os.urandom(16)).decode()
    headers = {
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": key,
        "Origin": origin, "Cookie": cookies,
    }  # fmt: skip
    return _get(port, f"/api/kernels/{kernel}/channels", headers).status


def test_review_app_refuses_requests_without_the_token_a_foreign_host_or_origin(tmp_path: Path) -> None:
    log = tmp_path / "review.log"
    with review_server(tmp_path, log) as (port, url):
        parts = urlsplit(url)
        token = re.fullmatch(r"token=([0-9a-f]{48})", parts.query)
        assert parts.netloc == f"127.0.0.1:{port}" and token is not None
        with_token = f"/?{parts.query}"

        # Without the token, or with another one: sent to the login page, never the app.
        for path in ("/", "/?token=" + "0" * 48):
            refused = _get(port, path)
            assert refused.status == 302 and "/login" in refused.getheader("Location", "")

        # DNS rebinding: the attacker's name resolves to 127.0.0.1; the token does not help it.
        assert _get(port, with_token, {"Host": f"evil.example:{port}"}).status == 403
        assert _get(port, with_token, {"Host": f"localhost:{port}"}).status == 200

        # The reviewer's page: the token is exchanged for a login cookie, a kernel started.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", with_token)
        page = connection.getresponse()
        html = page.read().decode("utf-8")
        assert page.status == 200
        cookies = "; ".join(v.split(";")[0] for k, v in page.getheaders() if k.lower() == "set-cookie")
        kernel = re.search(r'kernelId": "([0-9a-f-]{36})"', html)
        assert cookies and kernel is not None

        # Another site's page cannot open the kernel's websocket with the reviewer's cookie.
        assert _open_kernel_socket(port, kernel[1], "http://evil.example", cookies) == 403
        assert _open_kernel_socket(port, kernel[1], f"http://127.0.0.1:{port}", "") == 403  # nor without login
        assert _open_kernel_socket(port, kernel[1], f"http://127.0.0.1:{port}", cookies) == 101

    text = log.read_text()
    assert f"Culling kernels with idle durations > {KERNEL_IDLE_SECONDS} seconds" in text
    assert "not trusted" not in text and "without encryption" not in text
