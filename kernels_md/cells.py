"""Spatial decomposition: the cell grid, the half shell of neighbour cells, and the partition of
cell pairs into medium-grain non-bonded tasks.

A grid is built from the box (periodic) or the bounding box of the atoms (non-periodic) with cell
edges of at least ``cell_fraction * (cutoff + skin)``; a cell then interacts with the cells up to
``ceil(1/cell_fraction)`` away in each direction.  Without a cutoff the "cells" are contiguous
blocks of atom indices and every block pair interacts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class CellGrid:
    ncell: np.ndarray  # (3,) int64 cells per dimension
    edge: np.ndarray  # (3,) float64 cell edge, nm
    origin: np.ndarray  # (3,) float64 lower corner (non-periodic)
    periodic: bool
    reach: int  # neighbour cells in each direction
    blocks: bool = False  # no-cutoff mode: cells are index blocks
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))  # (npairs, 2) a <= b
    shifts: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # image of b, in boxes

    @property
    def ncells(self) -> int:
        return int(np.prod(self.ncell))

    def describe(self) -> str:
        if self.blocks:
            return f"{self.ncells} index blocks, {len(self.pairs)} block pairs (no cutoff)"
        nx, ny, nz = (int(v) for v in self.ncell)
        ex, ey, ez = (float(v) for v in self.edge)
        return (
            f"{nx}x{ny}x{nz} cells of {ex:.3f}x{ey:.3f}x{ez:.3f} nm, reach {self.reach}, "
            f"{'periodic' if self.periodic else 'non-periodic'}, {len(self.pairs)} cell pairs"
        )


def _neighbour_pairs(ncell, reach, periodic):
    """Unique interacting cell pairs (a, b) with the periodic image shift (in boxes) of b seen
    from a.  For a == b only the zero shift and half of the +/- shifts are kept."""
    ncell = np.asarray(ncell, np.int64)
    nx, ny, nz = (int(v) for v in ncell)
    coords = np.stack(np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij"), -1).reshape(-1, 3)
    r = np.arange(-reach, reach + 1)
    offs = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    nb = coords[:, None, :] + offs[None, :, :]  # (ncells, noffs, 3)
    a = np.repeat(np.arange(len(coords)), len(offs))
    nb = nb.reshape(-1, 3)
    if periodic:
        shift = np.floor_divide(nb, ncell)
        nb = nb - shift * ncell
    else:
        ok = np.all((nb >= 0) & (nb < ncell), axis=1)
        a, nb = a[ok], nb[ok]
        shift = np.zeros_like(nb)
    b = (nb[:, 0] * ny + nb[:, 1]) * nz + nb[:, 2]
    # canonical orientation: a < b, or a == b with the shift lexicographically >= 0
    flip = (b < a) | ((a == b) & ((shift[:, 0] < 0) | ((shift[:, 0] == 0) & ((shift[:, 1] < 0) | ((shift[:, 1] == 0) & (shift[:, 2] < 0))))))
    a2 = np.where(flip, b, a)
    b2 = np.where(flip, a, b)
    sh = np.where(flip[:, None], -shift, shift)
    # sorted by home cell, then shift, then partner: the list builder opens one pair-list entry per
    # (atom, shift), so an atom's partners in all its same-image neighbour cells share one entry
    rows = np.unique(np.column_stack([a2, sh, b2]), axis=0)
    return rows[:, [0, 4]].copy(), rows[:, 1:4].astype(np.float64)


def make_grid(positions, box, cutoff, skin, cell_fraction=1.0, periodic=True, block_size=256, previous=None):
    """Build the cell grid.  ``cutoff=None`` means no cutoff: index blocks of ``block_size``.
    The neighbour pairs of ``previous`` are reused when the cell counts did not change."""
    n = len(positions)
    if cutoff is None:
        nb = max(1, math.ceil(n / block_size))
        ncell = np.array([nb, 1, 1], np.int64)
        pairs = np.array([(a, b) for a in range(nb) for b in range(a, nb)], np.int64).reshape(-1, 2)
        return CellGrid(ncell, np.ones(3), np.zeros(3), False, 0, True, pairs, np.zeros((len(pairs), 3)))
    rlist = cutoff + skin
    min_edge = cell_fraction * rlist
    reach = math.ceil(1.0 / cell_fraction - 1e-9)
    if periodic:
        extent = np.asarray(box, np.float64)
        origin = np.zeros(3)
    else:
        lo = positions.min(axis=0)
        hi = positions.max(axis=0)
        origin = lo - 1e-6
        extent = np.maximum(hi - lo + 2e-6, min_edge)
    ncell = np.maximum(1, np.floor(extent / min_edge)).astype(np.int64)
    edge = extent / ncell
    if (
        previous is not None
        and not previous.blocks
        and previous.reach == reach
        and previous.periodic == periodic
        and np.array_equal(previous.ncell, ncell)
    ):
        pairs, shifts = previous.pairs, previous.shifts
    else:
        pairs, shifts = _neighbour_pairs(ncell, reach, periodic)
    return CellGrid(ncell, edge, origin, periodic, reach, False, pairs, shifts)


def bin_blocks(n, block_size):
    """Index-block 'binning' for the no-cutoff mode: (order, cell_start)."""
    nb = max(1, math.ceil(n / block_size))
    order = np.arange(n, dtype=np.int32)
    cell_start = np.minimum(np.arange(nb + 1, dtype=np.int64) * block_size, n)
    return order, cell_start


def partition_pairs(pairs, counts, ntasks):
    """Split the cell pairs (sorted by home cell) into ``ntasks`` groups of about equal estimated work
    (n_a * n_b, halved on the diagonal), keeping pairs that share a home cell together
    (a cell and its half shell).  Returns a list of index arrays into ``pairs``."""
    if len(pairs) == 0:
        return []
    a, b = pairs[:, 0], pairs[:, 1]
    work = counts[a].astype(np.float64) * counts[b]
    work[a == b] *= 0.5
    work += 1.0  # the visit itself costs something
    # work per home cell, contiguous home cells per task
    homes, start = np.unique(a, return_index=True)
    bounds = list(start) + [len(pairs)]
    home_work = np.array([work[bounds[k]:bounds[k + 1]].sum() for k in range(len(homes))])
    ntasks = max(1, min(ntasks, len(homes)))
    target = home_work.sum() / ntasks
    groups = []
    cur = []
    acc = 0.0
    for k in range(len(homes)):
        cur.append(np.arange(bounds[k], bounds[k + 1]))
        acc += home_work[k]
        if acc >= target * (len(groups) + 1) and len(groups) < ntasks - 1:
            groups.append(np.concatenate(cur))
            cur = []
    if cur:
        groups.append(np.concatenate(cur))
    return groups
