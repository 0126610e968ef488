"""Figures for the structure tools, made without pyplot (nothing accumulates in pyplot's figure list)."""

from __future__ import annotations

import numpy as np

# ColabFold / AlphaFold DB pLDDT bands: (lower bound, colour, label).
PLDDT_BANDS = (
    (90.0, "#0053D6", "very high (>90)"),
    (70.0, "#65CBF3", "confident (70-90)"),
    (50.0, "#FFDB13", "low (50-70)"),
    (0.0, "#FF7D45", "very low (<50)"),
)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def draw_plddt(axes, plddt_by_name: dict[str, np.ndarray], title: str = "predicted lDDT per residue") -> None:
    """pLDDT along the sequence, one line per prediction, over the ColabFold confidence bands."""
    upper = 100.0
    for lower, colour, label in PLDDT_BANDS:
        axes.axhspan(lower, upper, color=colour, alpha=0.15, label=label, linewidth=0)
        upper = lower
    single = len(plddt_by_name) == 1
    for name, values in plddt_by_name.items():
        axes.plot(
            np.arange(1, len(values) + 1),
            values,
            linewidth=1.2,
            color="black" if single else None,
            label=None if single else name,
        )
    axes.set(xlabel="residue", ylabel="pLDDT", ylim=(0, 100), title=title)
    axes.legend(fontsize=7, loc="lower left", ncols=2)


def draw_pae(figure, axes, pae: np.ndarray, title: str) -> None:
    """Predicted aligned error matrix (AlphaFold's green colour map, at least 0-30 Å)."""
    image = axes.imshow(pae, cmap="Greens_r", vmin=0, vmax=max(30.0, float(np.nanmax(pae))), origin="upper")
    axes.set(xlabel="scored residue", ylabel="aligned residue", title=title)
    figure.colorbar(image, ax=axes, label="expected position error (Å)")


def plddt_figure(plddt_by_name: dict[str, np.ndarray]):
    figure = _figure(7, 2.8)
    draw_plddt(figure.subplots(), plddt_by_name)
    return figure


def pae_figure(pae: np.ndarray, name: str):
    figure = _figure(3.8, 3.2)
    draw_pae(figure, figure.subplots(), pae, f"PAE: {name}")
    return figure


def fold_figure(plddt: np.ndarray, pae: np.ndarray, name: str, ptm: float):
    """pLDDT along the sequence beside the PAE matrix: the usual one-glance view of a prediction."""
    figure = _figure(10, 3.2)
    left, right = figure.subplots(1, 2, width_ratios=[1.8, 1])
    draw_plddt(left, {name: plddt}, title=f"pLDDT: {name}")
    draw_pae(figure, right, pae, f"PAE (pTM {ptm:.2f})")
    return figure


def contact_figure(probabilities: np.ndarray, top: list[tuple[int, int]], name: str):
    """Contact probabilities (lower triangle) with the chosen top contacts marked (upper triangle)."""
    figure = _figure(4.2, 3.6)
    axes = figure.subplots()
    image = axes.imshow(np.tril(probabilities), cmap="Blues", vmin=0, vmax=1, origin="upper")
    if top:
        i, j = np.array(top).T - 1  # 1-based residue numbers to matrix indices
        axes.scatter(np.maximum(i, j), np.minimum(i, j), s=8, c="crimson", marker="s", label="top L/5 long-range")
        axes.legend(fontsize=7, loc="lower left")
    axes.set(xlabel="residue", ylabel="residue", title=f"contact map: {name}")
    figure.colorbar(image, ax=axes, label="contact probability")
    return figure


def scan_figure(matrix: np.ndarray, sequence: str, alphabet: str, name: str):
    """Deep mutational scan heatmap: substitution (rows) x position (columns), wild type marked."""
    length = len(sequence)
    figure = _figure(min(2 + 0.16 * length, 22), 4.2)
    axes = figure.subplots()
    limit = float(np.nanmax(np.abs(matrix))) or 1.0
    image = axes.imshow(matrix, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    for position, residue in enumerate(sequence):
        if residue in alphabet:
            axes.scatter(position, alphabet.index(residue), s=4, c="black", marker="o")
    axes.set_yticks(range(len(alphabet)), list(alphabet), fontsize=7)
    step = max(1, length // 40)
    ticks = list(range(0, length, step))
    axes.set_xticks(ticks, [f"{sequence[t]}{t + 1}" for t in ticks], rotation=90, fontsize=6)
    axes.set(xlabel="position", ylabel="substitution", title=f"masked-marginal scores: {name} (dot = wild type)")
    figure.colorbar(image, ax=axes, label="log p(mut) - log p(wt)")
    return figure


def plddt_legend_html() -> str:
    """The ColabFold legend for a 3D view coloured red (pLDDT <= 50) to blue (>= 90)."""
    stops = "#d73027 0%, #fc8d59 25%, #ffffbf 50%, #91bfdb 75%, #4575b4 100%"  # NGL's RdYlBu, red to blue
    return (
        '<div style="font-family:sans-serif;font-size:12px;display:flex;align-items:center;gap:6px">'
        "<span>pLDDT</span><span>50</span>"
        f'<span style="display:inline-block;width:180px;height:12px;background:linear-gradient(to right, {stops})">'
        "</span><span>90</span><span style='color:#555'>(red: low confidence, blue: high)</span></div>"
    )
