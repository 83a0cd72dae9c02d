"""What the owner's community offers (立项): the catalog as this owner may see and order it.

Every owner-facing path that shows or takes a service asks here: the catalog browser, prices,
the one-line catalog inside a form, and order intake. A service the community does not offer
gets a polite reply, and the ask is counted as demand for the next 立项.
"""

from __future__ import annotations

from dialogs import texts
from dialogs.form import Env
from storage import catalog, communities, service_lines
from storage.catalog import ButlerLine, Service
from storage.service_lines import Offer


async def current(env: Env) -> Offer | None:
    """The owner's community offer today (None: no community yet, nothing is filtered)."""
    return await service_lines.offer(session=env.session, community_id=env.owner.community_id, today=env.ctx.now().date())


async def lines(env: Env) -> list[tuple[ButlerLine, list[Service]]]:
    """The butler lines the owner may browse, each with its offered services (empty lines left out)."""
    offer = await current(env)
    out = []
    for line in await catalog.list_lines(session=env.session):
        services = [s for s in line.services if offer is None or offer.offers(s.name)]
        if services:
            out.append((line, services))
    return out


async def offered(env: Env, service: str) -> bool:
    """Whether the owner may order this service now."""
    offer = await current(env)
    return offer is None or offer.offers(service)


async def refusal(env: Env, service: str) -> str | None:
    """The polite 'not offered here' reply (and the ask counted), or None when the service is offered."""
    offer = await current(env)
    if offer is None or offer.offers(service) or env.owner.community_id is None:
        return None
    row = await catalog.get_service_by_name(session=env.session, name=service)
    if row is None:
        return None
    await service_lines.record_demand(
        session=env.session, community_id=env.owner.community_id, service_id=row.id, owner_id=env.owner.id,
        day=env.ctx.now().date(),
    )
    community = await communities.get(session=env.session, community_id=env.owner.community_id)
    available = [line.name for line, _ in await lines(env)]
    parts = [
        texts.SERVICE_NOT_OFFERED.format(community=community.name if community else "您的小区", service=service),
        texts.SERVICE_OFFERED_NOW.format(lines="、".join(available)) if available else texts.SERVICE_NONE_OFFERED,
        texts.SERVICE_NOT_OFFERED_HELP,
    ]
    return "\n".join(parts)
