"""The one figure -> inline-PNG helper every tool's ``_repr_html_`` uses (kenkyu.tools._figures)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from kenkyu.tools._figures import figure_html, summary_html

ROOT = Path(__file__).resolve().parents[2]


def _figure():
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1))
    figure.add_subplot().plot([0, 1], [1, 0])
    return figure


def test_figure_html_embeds_the_figure_as_a_png_a_static_page_can_show():
    page = figure_html(_figure(), dpi=50)
    match = re.fullmatch(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"/>', page)
    assert match, page[:80]
    png = base64.b64decode(match.group(1))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    assert 60 <= width <= 110  # 2 inches at 50 dpi, trimmed to the drawing by bbox_inches="tight"


def test_summary_html_escapes_the_text_and_lists_the_lines_after_the_first():
    page = summary_html("RMSD <script>x</script>\nmean 0.1 nm\nfinal 0.2 nm")
    assert page == (
        "<p><b>RMSD &lt;script&gt;x&lt;/script&gt;</b></p><ul><li>mean 0.1 nm</li><li>final 0.2 nm</li></ul>"
    )
    assert summary_html("one line") == "<p><b>one line</b></p>"


def test_no_tool_writes_its_own_png_encoder():
    """The figure code lived in seven modules (six tools and the Check report); a new one uses the helper."""
    copies = [
        str(path.relative_to(ROOT))
        for folder in ("tools", "assistant")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "_figures.py" and "data:image/png;base64" in path.read_text()
    ]
    assert copies == []


def test_every_result_that_had_its_own_encoder_renders_its_figure_and_escapes_its_summary():
    """Their views, each given the same result stand-in: the figure inline, the summary's markup as text."""
    import importlib
    from types import SimpleNamespace

    import pandas as pd

    result = SimpleNamespace(
        summary=lambda: "Head <b>x</b>\nline a\nline b",
        figure=_figure(),
        table=pd.DataFrame({"a": [1]}),
        regions=pd.DataFrame({"r": [1]}),
    )
    modules = ["_melting", "prediction_check", "mutants", "md._speed", "md._coarse"]
    views = {}
    for name in modules:
        module = importlib.import_module(f"kenkyu.tools.{name}")
        for cls in [c for c in vars(module).values() if isinstance(c, type) and "_repr_html_" in vars(c)]:
            views[cls.__name__] = cls._repr_html_(result)
    assert sorted(views) == [
        "BackendComparison",
        "CoarseGrainedRun",
        "ConfidenceDynamics",
        "MeltingCurve",
        "MutationEffect",
    ]
    for name, page in views.items():
        assert '<img src="data:image/png;base64,' in page, name
        assert "Head &lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page, name
