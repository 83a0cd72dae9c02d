"""Per-owner flood limit: a token bucket in Redis, shared by every `serve` process.

A person types at most a message a second or so, with short bursts (a pasted address, a quick
"好的 好的"); a script or a stuck client sends dozens a second. The bucket lets the burst through
and answers the excess politely without touching the database, the NLU or the dialogs, so one
flooding owner cannot slow anyone else down.
"""

from __future__ import annotations

import logging

from storage.kv import KeyValueStore

log = logging.getLogger(__name__)

TOO_FAST = "您发得太快了，请稍后再试。"

# Atomic refill-and-take on one hash per owner; Redis's own clock, so every process agrees.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return allowed
"""


class FloodLimiter:
    """`await allow(user_id)`: False once the owner's bucket is empty; fails open if Redis is down."""

    def __init__(self, kv: KeyValueStore, *, burst: int, per_second: float) -> None:
        self.kv = kv
        self.burst = burst
        self.per_second = per_second
        # EVALSHA after the first call instead of sending the script's text with every message.
        self._take = kv.client.register_script(_TAKE)

    @property
    def enabled(self) -> bool:
        """A burst of 0 switches the limit off."""
        return self.burst > 0 and self.per_second > 0

    async def allow(self, user_id: str) -> bool:
        """Take one token for this owner's message."""
        if not self.enabled:
            return True
        try:
            taken = await self._take(keys=[self.kv.key(f"flood:{user_id}")], args=[self.burst, self.per_second])
        except Exception:  # Redis down: never refuse an owner because the limiter can't count
            log.warning("flood limiter unavailable; letting the message through", exc_info=True)
            return True
        return bool(taken)
