"""The daily report's chart: commission per line per community, labelled in Chinese (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

from bot.wording.report import CHART_AXIS, CHART_TARGET, CHART_TITLE
from storage.files import open_private, private_dir
from storage.reports import LINE_DAILY_TARGET_FEN, DailyReport, LineFigures


def _cjk_font() -> str | None:
    """A CJK font family for the chart: the one shipped by the mplfonts package, else a system one.

    mplfonts (a PyPI dependency) carries Noto Sans CJK SC (SIL OFL), so a fresh `pip install` labels
    the chart in Chinese without an apt step. The file is registered with matplotlib's font
    manager directly: mplfonts' own helpers rewrite matplotlib's configuration, which we don't want.
    """
    from matplotlib import font_manager

    try:
        import mplfonts

        shipped = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
        if shipped.is_file():
            font_manager.fontManager.addfont(str(shipped))
            return font_manager.FontProperties(fname=str(shipped)).get_name()
    except ImportError:
        pass
    for f in font_manager.fontManager.ttflist:
        if any(k in f.name for k in ("CJK", "WenQuanYi", "SimHei", "Hei", "Song", "Droid Sans Fallback")):
            return f.name
    return None


def render_chart(report: DailyReport, path: Path) -> Path:
    """A PNG: commission per line per community, with the ¥1/day line. Blocking: run in a thread."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font]
    # Without a CJK font, label with ids so the chart never shows tofu boxes.
    def label(text: str, fallback: str) -> str:
        return text if font or text.isascii() else fallback

    # The busiest few communities; a chart of thirty bars per line would be unreadable.
    shown = sorted((c for c in report.communities if c.lines),
                   key=lambda c: -sum(f.commission_fen for f in c.lines.values()))[:6]
    lines = sorted({n for c in shown for n in c.lines})
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    width = 0.8 / max(1, len(shown))
    for i, c in enumerate(shown):
        values = [c.lines.get(n, LineFigures()).commission_fen / 100 for n in lines]
        xs = [j + i * width for j in range(len(lines))]
        ax.bar(xs, values, width=width, label=label(c.name, f"community #{c.community_id}"))
    ax.axhline(LINE_DAILY_TARGET_FEN / 100, color="red", linestyle="--", linewidth=1,
               label=label(CHART_TARGET, "target 1 CNY/day"))
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(lines))])
    ax.set_xticklabels([label(n, f"line {k + 1}") for k, n in enumerate(lines)], rotation=20)
    ax.set_ylabel(label(CHART_AXIS, "commission (CNY)"))
    ax.set_title(label(CHART_TITLE.format(day=report.day), f"Butler daily report {report.day:%Y-%m-%d}"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    private_dir(path.parent)
    with open_private(path, "wb") as fh:  # the chart names communities and revenue: 0600
        fig.savefig(fh, format="png")
    plt.close(fig)
    return path
