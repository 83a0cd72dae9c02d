"""`python -m bench …` rewrites the generated table of bench/RESULTS.md and keeps the hand-written
sections after it (before/after runs, profiles): a rerun of one benchmark once wiped them."""

from __future__ import annotations

from bench.__main__ import with_notes


def test_a_rerun_keeps_the_hand_written_sections() -> None:
    previous = "# Benchmark results\n\n| old | table |\n\n## Issue 18\n\nbefore → after\n\n### Profile\n\nx\n"
    out = with_notes("# Benchmark results\n\n| new | table |\n", previous)
    assert out == "# Benchmark results\n\n| new | table |\n\n## Issue 18\n\nbefore → after\n\n### Profile\n\nx\n"
    assert with_notes("| t |\n", "") == "| t |\n"  # a first run has nothing to keep

