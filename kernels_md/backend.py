"""The dataflow force backend: owns the parameters, the cell grid, the pair lists, the per-worker
force buffers and the task graph, and evaluates one step when OpenMM's PythonForce calls it.

Task graph of one step (static; printed by :meth:`DataflowBackend.graph`)::

    positions ─┬─> bin ─┬─> nlist[0] ─> nonbonded[0] ─┐
               │        ├─> nlist[1] ─> nonbonded[1] ─┤
               │        └─> ...                        ├─> reduce
               └─> bonds[..] / angles[..] / torsions[..] / rb_torsions[..] /
                   cmap[..] / exceptions[..] / contacts[..] ─────────┘

``positions`` publishes the step's coordinates (as the periodic images seen at the last list
build, in cell order for the non-bonded kernels) and decides whether the pair lists are stale (the
two largest displacements since the last build add up to more than the skin, or the box changed);
``bin`` and ``nlist[k]`` then rebuild the cells and the pair list of task k (they return at once
otherwise), and ``nonbonded[k]`` fires as soon as its own list is ready.  A non-bonded task is a
group of home cells with their half shells (about equal estimated work per task); a bond-engine task
is a chunk of terms of one kind.  Each compute task writes to the force buffer of the worker running
it (non-bonded buffers in cell order, bond-engine buffers in atom order); ``reduce`` sums them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from .cells import bin_blocks, make_grid, partition_pairs
from .scheduler import DataflowScheduler
from .taskgraph import Task, TaskGraph


@dataclass
class NonbondedParams:
    """Per-particle non-bonded parameters in kernel form."""

    mode: int  # kernels_nb.MODE_*
    qs: np.ndarray  # charge * sqrt(Coulomb prefactor)
    sh: np.ndarray  # sigma / 2
    se: np.ndarray  # sqrt(epsilon)
    excl_ptr: np.ndarray  # CSR exclusions (both directions)
    excl_idx: np.ndarray
    cutoff: float | None  # None = no cutoff
    periodic: bool
    krf: float = 0.0  # reaction-field k (or Debye kappa in CG mode)
    crf: float = 0.0
    alpha: float = 0.0  # Ewald splitting parameter
    use_switch: bool = False
    switch_distance: float = 0.0
    dispersion_coeff: float = 0.0  # energy = coeff / volume


@dataclass
class BondedTerms:
    """One kind of bonded term for the bond engine."""

    kind: str  # bonds, angles, torsions, rb_torsions, cmap, exceptions, contacts
    idx: np.ndarray  # (n, k) int32 particle indices
    prm: np.ndarray  # (n, p) float64 parameters
    periodic: bool = False
    alpha: float = 0.0  # exceptions: Ewald correction
    source: str = ""  # the OpenMM force it came from
    extra: tuple = ()  # cmap: (coeff, map_offset, map_size)


@dataclass
class StepInfo:
    energy: float = 0.0
    terms: dict = field(default_factory=dict)
    pairs: int = 0
    rebuilt: bool = False


def _exclusion_csr(n, pairs):
    pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
    both = np.concatenate([pairs, pairs[:, ::-1]]) if len(pairs) else pairs
    order = np.lexsort((both[:, 1], both[:, 0])) if len(both) else np.zeros(0, np.int64)
    both = both[order]
    ptr = np.zeros(n + 1, np.int64)
    if len(both):
        np.add.at(ptr, both[:, 0] + 1, 1)
    ptr = np.cumsum(ptr)
    return ptr, both[:, 1].astype(np.int32) if len(both) else np.zeros(0, np.int32)


class DataflowBackend:
    """Callable for ``openmm.PythonForce``: ``backend(state) -> (energy, forces)``."""

    def __init__(
        self,
        n_particles: int,
        nonbonded: NonbondedParams | None,
        bonded: list[BondedTerms],
        *,
        threads: int | None = None,
        policy: str = "lpt",
        cell_fraction: float = 0.5,
        skin: float = 0.15,
        tasks_per_thread: int = 6,
        bonded_chunk: int = 4096,
        block_size: int = 256,
        precision: str = "double",
        profile: bool = True,
    ):
        if precision not in ("double", "mixed"):
            raise ValueError("precision must be 'double' or 'mixed'")
        if not (0.0 < cell_fraction <= 1.0):
            raise ValueError("cell_fraction must be in (0, 1]")
        self.n = int(n_particles)
        self.nb = nonbonded
        self.bonded = [b for b in bonded if len(b.idx)]
        self.threads = int(threads or os.cpu_count() or 1)
        self.policy = policy
        self.cell_fraction = float(cell_fraction)
        self.skin = float(skin)
        self.tasks_per_thread = int(tasks_per_thread)
        self.bonded_chunk = int(bonded_chunk)
        self.block_size = int(block_size)
        self.precision = precision
        self.profile = profile
        self._init_runtime()

    # state that is rebuilt after unpickling -------------------------------------------------
    def _init_runtime(self):
        self.scheduler = DataflowScheduler(self.threads, self.policy, self.profile)
        nbuf = 1 if self.policy == "serial" else self.threads
        self.buffers = np.zeros((nbuf, self.n, 3))  # bond engine, atom order
        self.nb_buffers = np.zeros((nbuf, self.n if self.nb is not None else 0, 3))  # cell order
        self._order = np.arange(self.n, dtype=np.int32)
        self.forces = np.zeros((self.n, 3))
        self.pos = np.zeros((self.n, 3))
        self.pos_w = self.pos  # positions as the images seen at the last list build
        self._ref_w = None
        self._pos_w_buf = None
        self.box = np.zeros(3)
        self._ref_pos = None
        self._ref_box = None
        self._rebuild = True
        self._skin_eff = self.skin
        self.grid = None
        self._cell_start = None
        self._groups = []
        self._lists = []
        self.n_nb_tasks = 0
        if self.nb is not None:
            # granularity: tasks_per_thread per worker, but no task below ~1000 atoms' worth of pairs
            # (on small systems per-task dispatch and GIL hand-offs would dominate)
            self.n_nb_tasks = max(1, min(self.threads * self.tasks_per_thread, max(self.threads, self.n // 1000)))
            self._lists = [None] * self.n_nb_tasks
        self._bonded_chunks = []
        for b in self.bonded:
            nch = max(1, math.ceil(len(b.idx) / self.bonded_chunk))
            for k, sl in enumerate(np.array_split(np.arange(len(b.idx)), nch)):
                self._bonded_chunks.append((f"{b.kind}[{k}]", b, sl[0], sl[-1] + 1))
        self._graph = self._build_graph()
        self._slot = {t.name: k for k, t in enumerate(self._graph.tasks)}
        self._energy = np.zeros(len(self._graph.tasks))
        self._energy_lj = np.zeros(len(self._graph.tasks))
        self._pairs = np.zeros(len(self._graph.tasks), np.int64)
        self.last = StepInfo()
        self.steps = 0
        self.rebuilds = 0

    def __getstate__(self):
        keep = ["n", "nb", "bonded", "threads", "policy", "cell_fraction", "skin", "tasks_per_thread", "bonded_chunk", "block_size", "precision", "profile"]
        return {k: self.__dict__[k] for k in keep}

    def __setstate__(self, st):
        self.__dict__.update(st)
        self._init_runtime()

    # graph ------------------------------------------------------------------------------------
    def graph(self) -> TaskGraph:
        """The task graph of one step (data: print it, walk ``.tasks``, ``.edges()``)."""
        return self._graph

    def _build_graph(self) -> TaskGraph:
        tasks = [Task("positions", "positions", (), 0.1, self._t_positions, "publish x, check list age")]
        compute = []
        if self.nb is not None:
            tasks.append(Task("bin", "bin", ("positions",), 1.0, self._t_bin, "cells + task partition"))
            for k in range(self.n_nb_tasks):
                tasks.append(Task(f"nlist[{k}]", "nlist", ("bin",), 5.0, self._mk(self._t_nlist, k)))
                tasks.append(
                    Task(f"nonbonded[{k}]", "nonbonded", (f"nlist[{k}]",), 100.0, self._mk(self._t_nb, k))
                )
                compute.append(f"nonbonded[{k}]")
        for name, b, lo, hi in self._bonded_chunks:
            cost = (hi - lo) * {"bonds": 0.02, "exceptions": 0.02, "contacts": 0.02, "cmap": 0.2}.get(b.kind, 0.05)
            tasks.append(
                Task(name, b.kind, ("positions",), cost, self._mk_bonded(name, b, lo, hi), f"{hi - lo} terms")
            )
            compute.append(name)
        tasks.append(Task("reduce", "reduce", tuple(compute) or ("positions",), 1.0, self._t_reduce))
        return TaskGraph(tasks)

    @staticmethod
    def _mk(fn, k):
        return lambda wid: fn(k, wid)

    def _mk_bonded(self, name, b, lo, hi):
        from . import kernels_bonded as kb

        idx = np.ascontiguousarray(b.idx[lo:hi])
        prm = np.ascontiguousarray(b.prm[lo:hi])
        periodic = bool(b.periodic)

        if b.kind == "bonds":
            def run(wid):
                self._energy[self._slot[name]] = kb.bonds(self.pos, self.box, periodic, idx, prm, self.buffers[wid])
        elif b.kind == "angles":
            def run(wid):
                self._energy[self._slot[name]] = kb.angles(self.pos, self.box, periodic, idx, prm, self.buffers[wid])
        elif b.kind in ("torsions", "rb_torsions"):
            rb = b.kind == "rb_torsions"

            def run(wid):
                self._energy[self._slot[name]] = kb.torsions(
                    self.pos, self.box, periodic, idx, prm, rb, self.buffers[wid]
                )
        elif b.kind == "exceptions":
            alpha = float(b.alpha)

            def run(wid):
                self._energy[self._slot[name]] = kb.exceptions(
                    self.pos, self.box, periodic, idx, prm, alpha, self.buffers[wid]
                )
        elif b.kind == "cmap":
            coeff, moff, msize = b.extra

            def run(wid):
                self._energy[self._slot[name]] = kb.cmap(
                    self.pos, self.box, periodic, idx, prm, coeff, moff, msize, self.buffers[wid]
                )
        elif b.kind == "contacts":
            def run(wid):
                self._energy[self._slot[name]] = kb.contacts_1210(
                    self.pos, self.box, periodic, idx, prm, self.buffers[wid]
                )
        else:
            raise ValueError(f"unknown bonded kind {b.kind!r}")
        return run

    # tasks ------------------------------------------------------------------------------------
    def _t_positions(self, wid):
        if self.nb is None or self._rebuild:
            self._rebuild = self.nb is not None
            return
        if self.nb.cutoff is None:  # no-cutoff lists never go stale
            self.pos_w = self.pos
            self._sort_positions()
            return
        from .kernels_nb import follow_images, pair_displacement_bound

        if self._ref_box is not None and not np.array_equal(self._ref_box, self.box):
            self._rebuild = True
            return
        if self.nb.periodic:
            if self._pos_w_buf is None:
                self._pos_w_buf = np.empty_like(self.pos)
            moved = follow_images(self.pos, self._ref_w, self.box, self._pos_w_buf)
            self.pos_w = self._pos_w_buf
        else:
            moved = pair_displacement_bound(self.pos, self._ref_pos)
            self.pos_w = self.pos
        if moved > self._skin_eff:  # some pair may have crossed into the cutoff from beyond the list
            self._rebuild = True
        else:
            self._sort_positions()

    def _sort_positions(self):
        """Cell-ordered copy of the positions for the non-bonded kernels."""
        np.take(self.pos_w, self._order, axis=0, out=self._pos_s)

    def _t_bin(self, wid):
        if not self._rebuild:
            return
        nb = self.nb
        self.pos_w = self.pos
        if nb.cutoff is None:
            self.grid = make_grid(self.pos, self.box, None, 0.0, block_size=self.block_size)
            self._order, self._cell_start = bin_blocks(self.n, self.block_size)
        else:
            from .kernels_nb import bin_atoms, wrap_offsets

            if nb.periodic:
                if np.any(self.box <= 2.0 * nb.cutoff):
                    raise ValueError(f"periodic box {self.box} is not larger than twice the cutoff {nb.cutoff}")
                # the list must see each pair through one image only: box > 2 (cutoff + skin)
                self._skin_eff = min(self.skin, 0.999 * (float(self.box.min()) / 2 - nb.cutoff))
                self.pos_w = self.pos + wrap_offsets(self.pos, self.box)
                self._ref_w = self.pos_w.copy()
            else:
                self._skin_eff = self.skin
            self.grid = make_grid(
                self.pos_w, self.box, nb.cutoff, self._skin_eff, self.cell_fraction, nb.periodic, previous=self.grid
            )
            _, self._order, self._cell_start = bin_atoms(
                self.pos_w, self.grid.origin, self.grid.edge, self.grid.ncell, nb.periodic, self.box
            )
        self._pos_s = np.ascontiguousarray(self.pos_w[self._order])
        ps = self._pos_s
        self._xs, self._ys, self._zs = (np.ascontiguousarray(ps[:, d]) for d in range(3))
        self._qs_s = np.ascontiguousarray(nb.qs[self._order])
        self._sh_s = np.ascontiguousarray(nb.sh[self._order])
        self._se_s = np.ascontiguousarray(nb.se[self._order])
        from .kernels_nb import cell_bounds

        self._lo, self._hi = cell_bounds(self._xs, self._ys, self._zs, self._cell_start)
        counts = np.diff(self._cell_start)
        shifts = self.grid.shifts * (self.box if nb.periodic else 0.0)
        self._groups = [
            (self.grid.pairs[g], np.ascontiguousarray(shifts[g]))
            for g in partition_pairs(self.grid.pairs, counts, self.n_nb_tasks)
        ]
        self._ref_pos = self.pos.copy()
        self._ref_box = self.box.copy()
        self.rebuilds += 1

    def _t_nlist(self, k, wid):
        if not self._rebuild:
            return
        from .kernels_nb import build_pairlist

        nb = self.nb
        if k >= len(self._groups):
            self._lists[k] = None
            return
        pairs, shifts = self._groups[k]
        rlist2 = 1e30 if nb.cutoff is None else (nb.cutoff + self._skin_eff) ** 2
        self._lists[k] = build_pairlist(
            self._xs,
            self._ys,
            self._zs,
            np.ascontiguousarray(pairs[:, 0]),
            np.ascontiguousarray(pairs[:, 1]),
            shifts,
            self._cell_start,
            self._order,
            nb.excl_ptr,
            nb.excl_idx,
            rlist2,
            self._lo,
            self._hi,
        )

    def _t_nb(self, k, wid):
        from . import kernels_nb as kn

        lst = self._lists[k]
        slot = self._slot[f"nonbonded[{k}]"]
        if lst is None:
            self._energy[slot] = self._energy_lj[slot] = 0.0
            self._pairs[slot] = 0
            return
        nb = self.nb
        rc = nb.cutoff if nb.cutoff is not None else 1e15  # finite: kernels use fastmath
        table = kn.NB_KERNELS if self.precision == "double" else kn.NB_KERNELS_MIXED
        ec, elj, npairs = getattr(kn, table[nb.mode])(
            self._pos_s, lst[0], lst[1], lst[2], lst[3], self._qs_s, self._sh_s, self._se_s,
            rc * rc, nb.krf, nb.crf, nb.alpha, nb.use_switch, nb.switch_distance, rc, self.nb_buffers[wid],
        )
        self._energy[slot] = ec
        self._energy_lj[slot] = elj
        self._pairs[slot] = npairs

    def _t_reduce(self, wid):
        from .kernels_nb import reduce_buffers

        reduce_buffers(self.buffers, self.nb_buffers, self._order, self.forces)

    # step -------------------------------------------------------------------------------------
    def compute(self, positions, box=None):
        """Energy (kJ/mol) and forces (kJ/mol/nm, float64 (n, 3)) for positions in nm."""
        self.pos = np.ascontiguousarray(positions, dtype=np.float64)
        if box is not None:
            self.box = np.ascontiguousarray(box, dtype=np.float64)
        self.scheduler.run(self._graph)
        rebuilt = self._rebuild
        self._rebuild = False
        info = StepInfo(rebuilt=rebuilt)
        terms = {}
        for t in self._graph.tasks:
            if t.kind in ("positions", "bin", "nlist", "reduce"):
                continue
            s = self._slot[t.name]
            key = "coulomb" if t.kind == "nonbonded" else t.kind
            terms[key] = terms.get(key, 0.0) + self._energy[s]
            if t.kind == "nonbonded":
                terms["lj"] = terms.get("lj", 0.0) + self._energy_lj[s]
        if self.nb is not None and self.nb.dispersion_coeff:
            terms["dispersion"] = self.nb.dispersion_coeff / float(np.prod(self.box))
        info.terms = terms
        info.energy = float(sum(terms.values()))
        info.pairs = int(self._pairs.sum())
        self.last = info
        self.steps += 1
        return info.energy, self.forces

    def __call__(self, state):
        pos = state.getPositions(asNumpy=True)._value
        box = None
        if (self.nb is not None and self.nb.periodic) or any(b.periodic for b in self.bonded):
            vecs = np.asarray(state.getPeriodicBoxVectors(asNumpy=True)._value)
            if np.any(np.abs(vecs - np.diag(np.diag(vecs))) > 1e-12):
                raise NotImplementedError("kenkyu.kernels_md: triclinic periodic boxes are not supported")
            box = np.diag(vecs)
        energy, forces = self.compute(pos, box)
        return energy, forces

    def describe(self) -> str:
        lines = [
            (
                f"DataflowBackend: {self.n} particles, {self.threads} threads, policy={self.policy}, "
                f"precision={self.precision}, skin={self.skin} nm, cell_fraction={self.cell_fraction}"
            ),
        ]
        if self.nb is not None:
            names = {0: "no cutoff", 1: "reaction field", 2: "Ewald direct space", 3: "CG repulsion + Debye-Hueckel"}
            lines.append(
                f"  nonbonded: {names[self.nb.mode]}, cutoff={self.nb.cutoff}, periodic={self.nb.periodic}, "
                f"{self.n_nb_tasks} tasks"
            )
            if self.grid is not None:
                lines.append(f"  grid: {self.grid.describe()}")
        for b in self.bonded:
            lines.append(f"  bond engine: {b.kind}: {len(b.idx)} terms (from {b.source})")
        return "\n".join(lines)

    def timings(self) -> dict:
        """Per task kind: (count, total seconds) accumulated since the last reset."""
        return {k: tuple(v) for k, v in self.scheduler.stats.items()}
