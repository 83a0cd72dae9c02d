"""Quality bars on the held-out test file, for each backend."""

from __future__ import annotations

from nlu.evaluate import evaluate
from nlu.parser import Parser
from nlu.trainingdata import TEST_FILE
from tests.nlu.conftest import NOW


async def test_macro_f1_and_service_bars(backend: Parser) -> None:
    report = await evaluate(backend, TEST_FILE, now=NOW)
    assert report.macro_f1 >= 0.93, report.format()
    ok, total = report.service_on_orders
    assert total >= 40 and ok / total >= 0.95, report.format()


async def test_semantics_that_matter(backend: Parser) -> None:
    cases = {
        "取消": "cancel",
        "算了": "cancel",
        "不弄了": "cancel",
        "取消订单": "cancel_order",
        "电梯坏了": "report_issue",
        "楼道灯不亮": "report_issue",
        "我家马桶堵了": "order_service",
        "家里空调坏了": "order_service",
        "好的": "affirm",
        "是的": "affirm",
        "对": "affirm",
        "确认": "affirm",
        "可以": "affirm",
        "没问题": "affirm",
        "嗯": "affirm",
        "不": "deny",
        "不用了": "deny",
        "不对": "deny",
        "错了": "deny",
        "今天天气怎么样": "nlu_fallback",
        "讲个笑话": "nlu_fallback",
    }
    wrong = {t: (await backend.parse(t, now=NOW)).intent for t in cases}
    wrong = {t: got for t, got in wrong.items() if got != cases[t]}
    assert not wrong


async def test_held_out_real_text_bars(embedded: Parser) -> None:
    """Issue 13's targets on our own held-out files (out of scope ≤ 1 % actions, probes ≥ 85 %).

    Embedded only: the Rasa stage prints Rasa's figures on the same files (.ci/rasa-stage).
    """
    backend = embedded
    from nlu.trainingdata import EVAL_DIR

    oos = await evaluate(backend, EVAL_DIR / "oos_heldout.txt", now=NOW)
    n, total = oos.oos_actions
    assert total >= 200 and n / total <= 0.01, oos.oos_examples
    probes = await evaluate(backend, EVAL_DIR / "probes.yml", now=NOW)
    assert probes.accuracy >= 0.85, probes.errors
    p, ptotal = probes.oos_actions
    assert p == 0, probes.oos_examples


async def test_real_out_of_scope_requests(embedded: Parser) -> None:
    """Real smart-speaker requests (CAIS, eval/SOURCES.md) never seen in training.

    Measured: dev 203 lines, 1 action (0.5 %), 97.0 % left alone (nlu_fallback); held-out
    194 lines, 1 action (0.5 %), 95.9 %. The bars keep a margin. Errors are read on dev only.
    """
    from nlu.trainingdata import EVAL_DIR

    for name, min_fallback in (("oos_real_dev.txt", 0.95), ("oos_real_heldout.txt", 0.93)):
        report = await evaluate(embedded, EVAL_DIR / name, now=NOW)
        n, total = report.oos_actions
        assert total >= 180, name
        assert n / total <= 0.02, (name, report.oos_examples)
        assert report.accuracy >= min_fallback, (name, report.errors)


async def test_real_reviews_known_gap(embedded: Parser) -> None:
    """Real food-delivery reviews (waimai_10k, eval/SOURCES.md): a known gap, pinned so it can
    only improve. Target is the same <= 2 % of actions; measured 14/82 dev and 22/94 held-out
    (mostly complain and rate_service: 太难吃了 reads as a complaint). Complaints and ratings
    outside a follow-up are confirmed before anything happens (dialogs/confirm.py).
    """
    from nlu.trainingdata import EVAL_DIR

    for name, max_rate in (("oos_reviews_dev.txt", 0.22), ("oos_reviews_heldout.txt", 0.28)):
        report = await evaluate(embedded, EVAL_DIR / name, now=NOW)
        n, total = report.oos_actions
        assert total >= 80 and n / total <= max_rate, (name, n, total, report.oos_examples)


async def test_a_yes_is_an_answer_not_a_request(backend: Parser) -> None:
    # 要/听/好 alone made these affirm: a pending confirmation must not read them as a yes
    # 好/是/对 glued to a word is an adverb or a verb: 好臭啊 is "so smelly", 对面 "opposite"
    for text in ("我要听粤语歌", "播放琵琶行", "要听我要听拉萨", "好臭啊", "好吵啊", "是我家的"):
        assert (await backend.parse(text, now=NOW)).intent != "affirm", text
    for text in ("好的没问题", "就这么办", "对就是这个", "嗯嗯好的", "好啊", "对对对"):
        assert (await backend.parse(text, now=NOW)).intent == "affirm", text


async def test_a_fault_left_unrepaired_is_a_complaint_and_a_first_report_is_not(backend: Parser) -> None:
    # dissatisfaction with the service (SOURCES.md's rule): the real letters in training taught
    # the model that a broken lift is report_issue whatever else the owner says
    for text in ("你们物业怎么回事，电梯三天了还没修好！", "楼道灯坏了一个月了都没人管", "井盖坏了好几天，一直没人来修"):
        assert (await backend.parse(text, now=NOW)).intent == "complain", text
    for text in ("电梯坏了", "楼道灯不亮了，麻烦来修一下"):
        assert (await backend.parse(text, now=NOW)).intent == "report_issue", text
