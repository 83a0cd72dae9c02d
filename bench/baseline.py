"""The bare baseline on the same stack: aiohttp + wechatpy verify, decrypt, and encrypt an echo.

`python -m bench.baseline --port P`. No database, no Redis, no NLU, no dialog: the floor any
safe-mode WeChat webhook on aiohttp pays. Logging is configured like `butler serve` (INFO with the
access log) so the comparison measures our work, not a logging difference.
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bench.common import AES_KEY, APP_ID, TOKEN


def make_app() -> web.Application:
    """One POST /wechat handler and a /healthz for the runner."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)

    async def wechat(request: web.Request) -> web.Response:
        q = request.query
        body = await request.read()
        try:
            check_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"])
            plain = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
        except (InvalidSignatureException, KeyError):
            return web.Response(status=403)
        msg = parse_message(plain)
        reply = TextReply(message=msg, content=getattr(msg, "content", "")).render()
        return web.Response(
            text=crypto.encrypt_message(reply, q["nonce"], q["timestamp"]), content_type="application/xml"
        )

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/wechat", wechat)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    """Run the baseline server until killed."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
