"""How owners and their households are described to staff and to the owners themselves."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage import communities
from storage.owners import Owner


async def household(session: AsyncSession, owner: Owner) -> str:
    """E.g. "翠苑 3号楼2单元301室"; "未绑定房屋" when nothing is on file."""
    if owner.community_id is None and not owner.address:
        return "未绑定房屋"
    community = await communities.get(session=session, community_id=owner.community_id) if owner.community_id else None
    return " ".join(p for p in ((community.name if community else ""), owner.address) if p)


def label(owner: Owner) -> str:
    """The owner as staff see them: name or nickname, phone, id."""
    name = owner.name or owner.nickname or "业主"
    phone = f" {owner.phone}" if owner.phone else ""
    return f"{name}{phone} (#{owner.id})"
