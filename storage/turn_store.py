"""One owner turn's view of Redis: what the lock's round trip already read (issue 18).

A turn used to read its dialog state, its catalog-browser list and its fallback streak one GET at
a time, and then delete the list and the streak although both were almost always absent: four or
five round trips after the lock's own. `storage.kv.PrefetchingLock` takes the lock and reads
those keys in one Lua script; `TurnStore` answers the turn's first read of each from what the
script saw, and skips deleting a key it saw absent when only this owner's own turns (which the
lock serialises) ever write that key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from storage.kv import KeyValueStore


class TurnStore(KeyValueStore):
    """The owner's KeyValueStore for one turn: the lock's first reads answered from memory.

    `seen` maps logical names to what the lock's script read. A read of such a name is answered
    from it until the turn writes or deletes that name (after which Redis is asked again). A
    delete of a name in `owned` that was seen absent, and not written since, is skipped: nobody
    else writes those keys while the owner's lock is held. Everything else goes to Redis as usual.
    """

    def __init__(self, base: KeyValueStore, *, seen: Mapping[str, str | None], owned: Iterable[str] = ()) -> None:
        super().__init__(base.client, prefix=base.prefix)
        self._seen = dict(seen)
        self._owned = frozenset(owned)

    def _forget(self, names: Iterable[str]) -> None:
        for name in names:
            self._seen.pop(name, None)

    async def get(self, name: str) -> str | None:
        if name in self._seen:
            return self._seen[name]
        return await super().get(name)

    async def get_many(self, *names: str) -> list[str | None]:
        if all(n in self._seen for n in names):
            return [self._seen[n] for n in names]
        return await super().get_many(*names)

    async def set(self, name: str, value: str, *, ttl_seconds: int | None = None) -> None:
        self._forget([name])
        await super().set(name, value, ttl_seconds=ttl_seconds)

    async def set_many(self, items: list[tuple[str, str, bool]], *, ttl_seconds: int) -> None:
        self._forget(name for name, _, _ in items)
        await super().set_many(items, ttl_seconds=ttl_seconds)

    async def claim(self, name: str, *, ttl_seconds: int, value: str = "1") -> bool:
        self._forget([name])
        return await super().claim(name, ttl_seconds=ttl_seconds, value=value)

    async def incr(self, name: str, *, ttl_seconds: int | None = None) -> int:
        self._forget([name])
        return await super().incr(name, ttl_seconds=ttl_seconds)

    async def delete_if_equals(self, name: str, expected: str) -> bool:
        self._forget([name])
        return await super().delete_if_equals(name, expected)

    async def delete(self, *names: str) -> None:
        needed = [n for n in names if not (n in self._owned and n in self._seen and self._seen[n] is None)]
        self._forget(needed)
        await super().delete(*needed)

