"""Spatial decomposition: the column grid, the half shell of neighbour columns, and the *tiles*
(rectangles of columns) that are the medium-grain non-bonded tasks and the blocks of the force
reduction.

A grid cuts the box (periodic) or the bounding box of the atoms (non-periodic) into columns in x
and y of width about ``col_width``; atoms are sorted by column and by z inside a column (see
:func:`kenkyu.kernels_md.kernels_nb.column_sort`).  A column interacts with the columns whose
rectangle comes within ``rlist`` of it; the half shell keeps the offsets (ox, oy) that are
lexicographically >= (0, 0), so every pair is visited once.

Tile t owns the atoms of its columns (the i atoms of non-bonded task t and the atoms gathered and
reduced by block t) and *writes* forces to the columns of its half shell.  The decomposition
depends on the geometry only, never on the thread count, so the sums (and the results) are the
same, bit for bit, at any thread count.

Without a cutoff, "columns" are blocks of ``block_size`` atom indices (no spatial sort) and every
atom pairs with every later one; tiles are runs of blocks with about equal triangular work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# A cell grid beyond this many columns is not a protein's: a 100,000-atom system in implicit solvent spans a few
# thousand columns. Flown-apart coordinates (a blown-up run) asked for billions, and the grid's arrays took all the
# memory before the run could report anything (killed, rc 137, before its first frame).
MAX_COLUMNS = 1_000_000
# The words every refusal of flown-apart coordinates carries: a caller that only sees the text (OpenMM passes a
# PythonForce's exception on as an OpenMMException holding its message) recognises a blow-up by them.
BLOWN_APART = "coordinates flew apart"


class CoordinatesBlownApartError(ValueError):
    """The coordinates are not finite, or spread so far that their cell grid would exceed :data:`MAX_COLUMNS`."""


def check_extent(positions, col_width: float, periodic: bool, box=None) -> None:
    """Refuse coordinates no cell grid should be built for: non-finite, or spread over more than MAX_COLUMNS
    columns of ``col_width``. Cheap (one pass over the positions); called before any grid array is made."""
    positions = np.asarray(positions, np.float64)
    n = len(positions)
    fix = (
        "The simulation blew up: a time step too large (timestep_fs) or a temperature too high (temperature_k) "
        "for this model, or a starting structure with atoms on top of each other. Use a smaller timestep_fs or a "
        "lower temperature_k and start again"
    )
    if n and not np.isfinite(positions).all():
        bad = int((~np.isfinite(positions).all(axis=1)).sum())
        raise CoordinatesBlownApartError(
            f"kenkyu.kernels_md: {BLOWN_APART}: {bad} of {n} particles have non-finite (NaN or infinite) coordinates. "
            f"{fix}."
        )
    if periodic:
        extent = np.asarray(box, np.float64)
    elif n:
        extent = positions.max(axis=0) - positions.min(axis=0)
    else:
        return
    ncx = max(1.0, float(extent[0]) // col_width)
    ncy = max(1.0, float(extent[1]) // col_width)
    if ncx * ncy <= MAX_COLUMNS:
        return
    span = " x ".join(f"{e:.4g}" for e in extent[:3])
    if periodic:
        raise CoordinatesBlownApartError(
            f"kenkyu.kernels_md: the periodic box is {span} nm, which would take a cell grid of {ncx:.3g} x "
            f"{ncy:.3g} = {ncx * ncy:.3g} columns of {col_width:.3g} nm (at most {MAX_COLUMNS:,}). No solvated "
            "protein has such a box: check the box vectors (a box in Å read as nm is 10 times too large)."
        )
    raise CoordinatesBlownApartError(
        f"kenkyu.kernels_md: {BLOWN_APART}: the {n} particles span {span} nm, which would take a cell grid of "
        f"{ncx:.3g} x {ncy:.3g} = {ncx * ncy:.3g} columns of {col_width:.3g} nm (at most {MAX_COLUMNS:,}; a "
        f"protein spans a few nm to a few hundred). {fix}."
    )


@dataclass
class ColumnLayout:
    periodic: bool
    nocut: bool
    ncx: int
    ncy: int
    wx: float
    wy: float
    origin: np.ndarray
    box: np.ndarray
    rlist: float
    offs: np.ndarray  # (m, 2) int64 half-shell column offsets
    tiles: list = field(default_factory=list)  # home columns of tile t (sorted int64 arrays)
    write_cols: list = field(default_factory=list)  # columns tile t's task writes (and reads)
    read_tiles: list = field(default_factory=list)  # tiles whose gathered data task t reads
    writers: list = field(default_factory=list)  # tasks writing into tile b, ascending

    @property
    def ncols(self) -> int:
        return self.ncx * self.ncy

    def key(self):
        return (self.periodic, self.nocut, self.ncx, self.ncy, len(self.offs), len(self.tiles))

    def describe(self) -> str:
        if self.nocut:
            return (
                f"no cutoff: {self.ncols} index blocks in {len(self.tiles)} tiles "
                "(each atom pairs with every later atom)"
            )
        return (
            f"{self.ncx}x{self.ncy} columns of {self.wx:.3f}x{self.wy:.3f} nm, "
            f"{'periodic' if self.periodic else 'non-periodic'}, half shell of {len(self.offs)} column offsets "
            f"(r_list {self.rlist:.3f} nm), {len(self.tiles)} tiles"
        )


def _spans(cols, col_start):
    """Sorted-index spans [start, end) of a sorted array of column ids, adjacent columns merged
    (vectorised: it runs for every tile on every list rebuild, in the serial stage of the step)."""
    cols = np.asarray(cols, np.int64)
    s = np.asarray(col_start, np.int64)[cols]
    e = np.asarray(col_start, np.int64)[cols + 1]
    keep = e > s
    s, e = s[keep], e[keep]
    if not len(s):
        return np.zeros((0, 2), np.int64)
    brk = s[1:] != e[:-1]  # a new span starts where a column does not continue the previous one
    return np.stack([s[np.concatenate(([True], brk))], e[np.concatenate((brk, [True]))]], axis=1)


def spans_of(cols, col_start):
    return _spans(cols, col_start)


def half_shell_offsets(wx, wy, rlist):
    rx = math.ceil(rlist / wx - 1e-12)
    ry = math.ceil(rlist / wy - 1e-12)
    offs = []
    for ox in range(0, rx + 1):
        for oy in range(-ry, ry + 1):
            if ox == 0 and oy < 0:
                continue
            gx = max(abs(ox) - 1, 0) * wx
            gy = max(abs(oy) - 1, 0) * wy
            if gx * gx + gy * gy < rlist * rlist:
                offs.append((ox, oy))
    return np.array(offs, np.int64).reshape(-1, 2)


def _split(n, parts):
    edges = np.linspace(0, n, parts + 1).round().astype(int)
    return [(int(edges[k]), int(edges[k + 1])) for k in range(parts) if edges[k + 1] > edges[k]]


def make_layout(positions, box, cutoff, skin, col_width, periodic, tiles, block_size=256):
    """The column grid and its tiles.  ``cutoff=None``: index blocks (no cutoff)."""
    n = len(positions)
    box = np.asarray(box, np.float64) if box is not None else np.zeros(3)
    if cutoff is None:
        nblocks = max(1, math.ceil(n / block_size))
        lay = ColumnLayout(False, True, nblocks, 1, 1.0, 1.0, np.zeros(3), box, math.inf, np.zeros((1, 2), np.int64))
        # tiles: runs of blocks with about equal triangular work (block b pairs with blocks >= b)
        work = np.array([(nblocks - b) for b in range(nblocks)], np.float64)
        ntiles = max(1, min(tiles, nblocks))
        cum = np.cumsum(work)
        bounds = [0]
        for k in range(1, ntiles):
            bounds.append(int(np.searchsorted(cum, cum[-1] * k / ntiles)) + 1)
        bounds.append(nblocks)
        bounds = sorted(set(min(b, nblocks) for b in bounds))
        for a, b in zip(bounds[:-1], bounds[1:]):
            if b > a:
                lay.tiles.append(np.arange(a, b, dtype=np.int64))
        for home in lay.tiles:
            lay.write_cols.append(np.arange(home[0], nblocks, dtype=np.int64))
        _finish(lay)
        return lay
    rlist = cutoff + skin
    w = col_width
    check_extent(positions, w, periodic, box)
    if periodic:
        extent = box.copy()
        origin = np.zeros(3)
    else:
        lo = positions.min(axis=0)
        hi = positions.max(axis=0)
        origin = lo - 1e-6
        extent = np.maximum(hi - lo + 2e-6, w)
    ncx = max(1, int(extent[0] // w))
    ncy = max(1, int(extent[1] // w))
    wx, wy = float(extent[0] / ncx), float(extent[1] / ncy)
    offs = half_shell_offsets(wx, wy, rlist)
    lay = ColumnLayout(bool(periodic), False, ncx, ncy, wx, wy, origin, box, rlist, offs)
    # tiles: about `tiles` rectangles, as square as the column grid allows
    tiles = max(1, min(tiles, ncx * ncy))
    ntx = max(1, min(ncx, round(math.sqrt(tiles * ncx / ncy))))
    nty = max(1, min(ncy, round(tiles / ntx)))
    for x0, x1 in _split(ncx, ntx):
        for y0, y1 in _split(ncy, nty):
            cols = np.array([cx * ncy + cy for cx in range(x0, x1) for cy in range(y0, y1)], np.int64)
            lay.tiles.append(cols)
    for home in lay.tiles:
        cx = home // ncy
        cy = home % ncy
        nx = (cx[:, None] + offs[None, :, 0]).ravel()
        ny = (cy[:, None] + offs[None, :, 1]).ravel()
        if periodic:
            nx %= ncx
            ny %= ncy
        else:
            ok = (nx >= 0) & (nx < ncx) & (ny >= 0) & (ny < ncy)
            nx, ny = nx[ok], ny[ok]
        lay.write_cols.append(np.unique(np.concatenate([home, nx * ncy + ny])))
    _finish(lay)
    return lay


def _finish(lay):
    tile_of = np.empty(lay.ncols, np.int64)
    for t, cols in enumerate(lay.tiles):
        tile_of[cols] = t
    lay.read_tiles = [np.unique(tile_of[w]) for w in lay.write_cols]
    writers = [[] for _ in lay.tiles]
    for t, rt in enumerate(lay.read_tiles):
        for b in rt:
            writers[b].append(t)
    lay.writers = [np.array(sorted(w), np.int64) for w in writers]
