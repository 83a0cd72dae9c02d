"""The migrations form one line: a new migration has exactly one revision to follow (issue 17)."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from storage.migrate import alembic_config


def test_the_migrations_have_a_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = script.get_heads()
    assert len(heads) == 1, f"several heads: {heads}; chain the new migration after {sorted(heads)[-1]}"
    # Every revision after the merge point (0005) has exactly one parent: no new branches.
    for rev in script.walk_revisions():
        if rev.revision > "0005":
            assert isinstance(rev.down_revision, str), (rev.revision, rev.down_revision)
