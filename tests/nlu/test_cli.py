"""`butler nlu parse/eval` through typer's runner (the integrator mounts nlu_app as `butler nlu`)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli.nlu import nlu_app
from nlu.trainingdata import TEST_FILE

NOW = "2026-11-26T10:30:00+08:00"


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("BUTLER_NLU", "embedded")
    return CliRunner()


def test_parse_one_text(runner: CliRunner) -> None:
    res = runner.invoke(nlu_app, ["parse", "明天上午想请个阿姨打扫卫生", "--now", NOW])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["intent"]["name"] == "order_service"
    assert {"entity": "time", "value": "2026-11-27T09:00:00+08:00", "start": 0, "end": 4} in out[
        "entities"
    ]
    assert "阿姨" in res.stdout  # ensure_ascii=False


def test_parse_stdin_one_json_per_line(runner: CliRunner) -> None:
    lines = ["你好", "电梯坏了", "五星", ""] * 250
    res = runner.invoke(nlu_app, ["parse", "--now", NOW], input="\n".join(lines) + "\n")
    assert res.exit_code == 0, res.output
    outs = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(outs) == 1000
    assert [o["intent"]["name"] for o in outs[:3]] == ["greet", "report_issue", "rate_service"]


def test_bad_now_is_a_one_line_error(runner: CliRunner) -> None:
    res = runner.invoke(nlu_app, ["parse", "你好", "--now", "tomorrow"])
    assert res.exit_code != 0
    assert "--now" in res.output and len(res.output.strip().splitlines()) == 1


def test_unknown_backend(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUTLER_NLU", "watson")
    res = runner.invoke(nlu_app, ["parse", "你好"])
    # Settings rejects it; `butler`'s entry point turns that into one line (tests/bot/test_cli.py).
    assert res.exit_code != 0 and "watson" in str(res.exception)


def test_eval_prints_report(runner: CliRunner) -> None:
    res = runner.invoke(nlu_app, ["eval", str(TEST_FILE), "--now", NOW, "--min-f1", "0.93"])
    assert res.exit_code == 0, res.output
    for needle in (
        "precision",
        "recall",
        "macro-F1",
        "top confusions",
        "entity service accuracy",
        "entity time accuracy",
        "order_service",
    ):
        assert needle in res.output


def test_eval_missing_or_bad_file(runner: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert runner.invoke(nlu_app, ["eval", str(tmp_path / "nope.yml")]).exit_code != 0
    bad = tmp_path / "bad.yml"
    bad.write_text("just: [text", encoding="utf-8")
    res = runner.invoke(nlu_app, ["eval", str(bad)])
    assert res.exit_code != 0 and len(res.output.strip().splitlines()) == 1


def test_eval_prints_reliability_and_out_of_scope_rate(runner: CliRunner) -> None:
    from nlu.trainingdata import EVAL_DIR

    res = runner.invoke(
        nlu_app, ["eval", str(TEST_FILE), "--now", NOW, "--negatives", str(EVAL_DIR / "oos_heldout.txt")]
    )
    assert res.exit_code == 0, res.output
    assert "reliability (confidence bin: accuracy, count):" in res.stdout
    assert "0.95-1.00:" in res.stdout
    assert "negatives" in res.stdout and "trigger an action" in res.stdout
    assert "top confusions" in res.stdout and "macro-F1" in res.stdout


def test_eval_counts_a_second_label_from_the_provenance_table(runner: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from nlu.evaluate import text_key

    # The gold label is deliberately one the parser will not give; the table's second label is
    # the one it does give, so only the either-label accuracy counts the line as right.
    text = "电梯门关不上了，麻烦派人来修一下"
    tests = tmp_path / "two.yml"
    tests.write_text(
        f'version: "3.1"\nnlu:\n  - intent: thanks\n    examples: |\n      - {text}\n'
        "  - intent: greet\n    examples: |\n      - 你好\n",
        encoding="utf-8",
    )
    table = tmp_path / "lines.md"
    table.write_text(
        "| sha256[:8] | half | label | page | note |\n|---|---|---|---|---|\n"
        f"| {text_key(text)} | dev | thanks | <https://example.org/1> | report_issue also acceptable |\n"
        f"| {text_key('你好')} | dev | greet | <https://example.org/2> | |\n",
        encoding="utf-8",
    )
    res = runner.invoke(nlu_app, ["eval", str(tests), "--now", NOW, "--also", str(table)])
    assert res.exit_code == 0, res.output
    plain, either = (ln for ln in res.stdout.splitlines() if ln.startswith("accuracy"))
    assert plain.split() == ["accuracy", "0.500"]
    assert either.split()[:4] == ["accuracy", "(either", "label)", "1.000"], either
    assert "(1 lines carry a second label)" in either
