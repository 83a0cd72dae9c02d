"""The one aiohttp session each simulated side (owners, merchants, staff) posts to the hub with."""

from __future__ import annotations

import aiohttp


class HubHttp:
    """Mixed into each side: `http()` for posting to the hub, `aclose()` at shutdown."""

    _http: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession:
        """One client session for every post to the hub."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._http is not None:
            await self._http.close()
