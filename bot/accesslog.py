"""aiohttp's access log with the secrets and identities in WeChat's query string redacted.

WeChat puts `signature`, `msg_signature`, `nonce`, `echostr` and the sender's `openid` in the
query of every /wechat request; a log that keeps them lets anyone who reads it replay a request
inside the timestamp window and tells them who wrote to us.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

REDACTED_PARAMS = frozenset({"signature", "msg_signature", "nonce", "echostr", "openid"})


def redact_query(path_qs: str) -> str:
    """The path with the sensitive query values replaced by ***."""
    path, sep, query = path_qs.partition("?")
    if not sep:
        return path
    pairs = [(k, "***" if k.lower() in REDACTED_PARAMS else v) for k, v in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{urlencode(pairs, safe='*')}"


class RedactingAccessLogger(AbstractAccessLogger):
    """One line per request: client, method, redacted path, status, size, duration."""

    def log(self, request: BaseRequest, response: StreamResponse, time_taken: float) -> None:
        """Write the access line (never the raw query)."""
        self.logger.info(
            '%s [%s] "%s %s" %s %s %.3fs',
            request.remote, time.strftime("%d/%b/%Y:%H:%M:%S %z"), request.method, redact_query(request.path_qs),
            response.status, response.body_length, time_taken,
        )
