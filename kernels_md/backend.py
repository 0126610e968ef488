"""The dataflow force backend: owns the parameters, the column grid, the range lists, the per-task
force buffers and the task graph, and evaluates one step when OpenMM's PythonForce calls it.

Task graph of one step (printed by :meth:`DataflowBackend.graph`, drawn by
:meth:`DataflowBackend.timeline`)::

    positions ──> gather[b] ──> nonbonded[t] (t reads the tiles b of its half shell) ──┐
                                                                                       ├─> reduce[b]
    bonds[..] / angles[..] / torsions[..] / exceptions[..] / ... (roots) ───────────────┘

* ``positions`` publishes the step's coordinates as the images nearest to those of the last list
  build and decides whether the lists are stale; on a rebuild step it also sorts the atoms into
  columns (a counting sort, O(N)).  It is a root task of the graph, so the bond engine (which reads
  the step's coordinates directly) runs beside it on the other workers; only when the grid itself
  may change (first step, a new box, no periodic cutoff) does the caller run it before the graph.
* ``gather[b]`` copies the coordinates of tile b's atoms into the sorted structure-of-arrays (and,
  on a rebuild step, their parameters).
* ``nonbonded[t]`` fires when the tiles it reads are gathered, *not* after a global barrier; on a
  rebuild step it rebuilds its own range list first, then runs the pair kernel into its own force
  buffer.
* ``reduce[b]`` sums, for the atoms of tile b, the buffers of the tasks that write there (in a fixed
  order) and of the bond engine; it fires as soon as those writers are done.

Every buffer belongs to one task, and every sum runs in a fixed order, so the forces are bitwise
the same at any thread count.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from .scheduler import DataflowScheduler
from .taskgraph import Task, TaskGraph


@dataclass
class NonbondedParams:
    """Per-particle non-bonded parameters in kernel form."""

    mode: int  # kernels_nb.MODE_*
    qs: np.ndarray  # charge * sqrt(Coulomb prefactor)  (CG mode: charge; crf holds kdh)
    sh: np.ndarray  # sigma / 2
    se: np.ndarray  # sqrt(epsilon)
    excl_ptr: np.ndarray  # CSR exclusions (both directions)
    excl_idx: np.ndarray
    cutoff: float | None  # None = no cutoff
    periodic: bool
    krf: float = 0.0  # reaction-field k (or Debye kappa in CG mode)
    crf: float = 0.0  # reaction-field c (or kdh in CG mode)
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
    candidates: int = 0
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


REBUILD_RULES = ("sound", "openmm")


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
        cell_fraction: float = 0.6,
        skin: float = 0.12,
        tasks_per_thread: int | None = None,
        tiles: int | None = None,
        bonded_chunk: int = 4096,
        block_size: int = 256,
        precision: str = "double",
        rebuild: str = "sound",
        kernel: str = "atom",
        profile: bool = True,
        global_parameters: dict | None = None,
        fallback_xml: str | None = None,
        group: int = 0,
    ):
        if precision not in ("double", "mixed"):
            raise ValueError("precision must be 'double' or 'mixed'")
        if not (0.0 < cell_fraction <= 1.0):
            raise ValueError("cell_fraction must be in (0, 1]")
        if rebuild not in REBUILD_RULES:
            raise ValueError(f"rebuild must be one of {REBUILD_RULES}")
        self.n = int(n_particles)
        self.nb = nonbonded
        self.bonded = [b for b in bonded if len(b.idx)]
        self.threads = int(threads or os.cpu_count() or 1)
        self.policy = policy
        self.cell_fraction = float(cell_fraction)
        self.skin = float(skin)
        self.tasks_per_thread = tasks_per_thread  # accepted for compatibility; see ``tiles``
        self.tiles = int(tiles) if tiles else max(1, min(64, self.n // 1000))
        self.bonded_chunk = int(bonded_chunk)
        self.block_size = int(block_size)
        self.precision = precision
        self.rebuild_rule = rebuild
        if kernel not in ("atom", "cluster"):
            raise ValueError("kernel must be 'atom' or 'cluster'")
        self.kernel = kernel
        self.profile = profile
        self.global_parameters = dict(global_parameters or {})
        self.fallback_xml = fallback_xml
        self.group = int(group)
        self._init_runtime()

    # state that is rebuilt after unpickling -------------------------------------------------
    def _init_runtime(self):
        self.scheduler = DataflowScheduler(self.threads, self.policy, self.profile)
        self.forces = np.zeros((self.n, 3))
        self.pos = np.zeros((self.n, 3))
        self.box = np.zeros(3)
        self._pos_w = np.zeros((self.n, 3))
        self._ref_w = None
        self._ref_box = None
        self._rebuild = True
        self._rebuilding = False
        self._stage_in_graph = False
        self._t_positions = self._c_positions = self.t_step = 0.0
        self._skin_eff = self.skin
        self.layout = None
        self._sorted = False  # _order holds a column sort (the next sort starts from it)
        self._geo_key = None
        self._span_cols = self._span_ptr = None
        self._layout_key = None
        self._lists = []
        self.steps = 0
        self.rebuilds = 0
        # pair-list builds of the timed steps: count and CPU seconds of all tiles' searches together
        # (each tile's build is timed in its own task with its thread's CPU clock)
        self.list_builds = 0
        self.list_build_cpu = 0.0
        self.t_total = 0.0  # wall seconds of all evaluations (the backend's share of a run's time)
        self.last = StepInfo()
        self._fallback_ctx = None
        self._warned_triclinic = False
        self._globals_seen = dict(self.global_parameters)
        # bond engine chunks, each with its own atom-order buffer (only its atom span is used)
        self._bonded_chunks = []
        for b in self.bonded:
            nch = max(1, math.ceil(len(b.idx) / self.bonded_chunk))
            for k, sl in enumerate(np.array_split(np.arange(len(b.idx)), nch)):
                lo, hi = int(sl[0]), int(sl[-1]) + 1
                ix = b.idx[lo:hi]
                self._bonded_chunks.append((f"{b.kind}[{k}]", b, lo, hi, int(ix.min()), int(ix.max()) + 1))
        nch = len(self._bonded_chunks)
        self._bonded_bufs = np.zeros((nch, self.n, 3)) if nch else np.zeros((0, 0, 3))
        self._b_lo = np.array([c[4] for c in self._bonded_chunks], np.int64)
        self._b_hi = np.array([c[5] for c in self._bonded_chunks], np.int64)
        self._e_b = np.zeros(nch)
        if self.nb is None:
            self._order = np.arange(self.n, dtype=np.int32)
            blocks = max(1, math.ceil(self.n / 4096))
            edges = np.linspace(0, self.n, blocks + 1).round().astype(np.int64)
            self._tile_spans = [np.array([[edges[k], edges[k + 1]]], np.int64) for k in range(blocks)]
            self._writers = [np.zeros(0, np.int64) for _ in range(blocks)]
            self._nb_bufs = np.zeros((1, 3, 1))
            self._graph = self._build_graph()
        else:
            self._graph = None  # built with the first layout

    def __getstate__(self):
        keep = [
            "n",
            "nb",
            "bonded",
            "threads",
            "policy",
            "cell_fraction",
            "skin",
            "tasks_per_thread",
            "tiles",
            "bonded_chunk",
            "block_size",
            "precision",
            "rebuild_rule",
            "kernel",
            "profile",
            "global_parameters",
            "fallback_xml",
            "group",
        ]
        return {k: self.__dict__[k] for k in keep}

    def __setstate__(self, st):
        self.__dict__.update(st)
        self._init_runtime()

    # graph ------------------------------------------------------------------------------------
    def graph(self) -> TaskGraph:
        """The task graph of one step (data: print it, walk ``.tasks``, ``.edges()``).  With a cutoff,
        the graph exists once the first positions have been seen (it depends on the box)."""
        if self._graph is None:
            raise RuntimeError("the graph is built at the first force evaluation (it depends on the box)")
        return self._graph

    def _build_graph(self) -> TaskGraph:
        tasks = [Task("positions", "positions", (), 0.0, self._t_stage, "publish x, list age, sort on rebuild")]
        bonded_names = []
        for c, (name, b, lo, hi, alo, ahi) in enumerate(self._bonded_chunks):
            cost = (hi - lo) * {"bonds": 0.02, "exceptions": 0.02, "contacts": 0.02, "cmap": 0.2}.get(b.kind, 0.05)
            tasks.append(Task(name, b.kind, (), cost, self._mk_bonded(c, b, lo, hi, alo, ahi), f"{hi - lo} terms"))
            bonded_names.append(name)
        nblocks = len(self._tile_spans)
        if self.nb is not None:
            lay = self.layout
            for b in range(nblocks):
                tasks.append(
                    Task(
                        f"gather[{b}]",
                        "gather",
                        ("positions",),
                        0.5,
                        self._mk(self._t_gather, b),
                        f"{len(lay.tiles[b])} columns",
                    )
                )
            for t in range(nblocks):
                deps = tuple(f"gather[{b}]" for b in lay.read_tiles[t])
                tasks.append(
                    Task(
                        f"nonbonded[{t}]",
                        "nonbonded",
                        deps,
                        100.0,
                        self._mk(self._t_nb, t),
                        f"{len(lay.tiles[t])} home columns, writes {len(lay.write_cols[t])}",
                    )
                )
        for b in range(nblocks):
            deps = tuple(f"nonbonded[{t}]" for t in self._writers[b]) + tuple(bonded_names)
            tasks.append(Task(f"reduce[{b}]", "reduce", deps or ("positions",), 1.0, self._mk(self._t_reduce, b)))
        graph = TaskGraph(tasks)
        self._curve = self._tile_curve(nblocks)
        self._place_tiles(graph)
        return graph

    def _tile_curve(self, nblocks):
        """Tiles in the order of a serpentine walk over the tile grid (x slabs, y up then down), so
        that neighbours on the walk are neighbours in space and read mostly the same tiles.  Without
        a spatial grid (no cutoff, no non-bonded part) tiles are index blocks: their own order."""
        lay = self.layout
        if self.nb is None or lay is None or lay.nocut:
            return list(range(nblocks))
        first = [int(cols[0]) for cols in lay.tiles]
        xs = sorted({c // lay.ncy for c in first})
        ys = sorted({c % lay.ncy for c in first})
        xi = [xs.index(c // lay.ncy) for c in first]
        yi = [ys.index(c % lay.ncy) for c in first]
        return sorted(range(nblocks), key=lambda t: (xi[t], yi[t] if xi[t] % 2 == 0 else -yi[t]))

    def _place_tiles(self, graph):
        """Each tile's place on the curve: the middle of its share of the non-bonded cost (the
        tasks' measured costs once learned), so that cutting the curve into P equal stretches gives
        each worker about the same work; a tile's gather and reduce share its place."""
        by = graph.by_name
        cost = [by[f"nonbonded[{t}]"].cost if f"nonbonded[{t}]" in by else 1.0 for t in self._curve]
        total = float(sum(cost)) or 1.0
        done = 0.0
        for t, c in zip(self._curve, cost):
            place = min(0.999999, (done + 0.5 * c) / total)
            done += c
            for name in (f"gather[{t}]", f"nonbonded[{t}]", f"reduce[{t}]"):
                if name in by:
                    by[name].place = place

    @staticmethod
    def _mk(fn, k):
        return lambda wid: fn(k, wid)

    def _mk_bonded(self, c, b, lo, hi, alo, ahi):
        from . import kernels_bonded as kb

        idx = b.idx[lo:hi]
        periodic = bool(b.periodic)
        buf = self._bonded_bufs[c]
        energy = self._e_b

        def prm():
            return b.prm[lo:hi]  # a view: updated parameters are seen at once

        if b.kind == "bonds":

            def kern():
                return kb.bonds(self.pos, self.box, periodic, idx, prm(), buf)
        elif b.kind == "angles":

            def kern():
                return kb.angles(self.pos, self.box, periodic, idx, prm(), buf)
        elif b.kind in ("torsions", "rb_torsions"):
            rb = b.kind == "rb_torsions"

            def kern():
                return kb.torsions(self.pos, self.box, periodic, idx, prm(), rb, buf)
        elif b.kind == "exceptions":

            def kern():
                return kb.exceptions(self.pos, self.box, periodic, idx, prm(), float(b.alpha), buf)
        elif b.kind == "cmap":
            coeff, moff, msize = b.extra

            def kern():
                return kb.cmap(self.pos, self.box, periodic, idx, prm(), coeff, moff, msize, buf)
        elif b.kind == "contacts":

            def kern():
                return kb.contacts_1210(self.pos, self.box, periodic, idx, prm(), buf)
        else:
            raise ValueError(f"unknown bonded kind {b.kind!r}")

        def run(wid):
            buf[alo:ahi] = 0.0
            energy[c] = kern()

        return run

    # the positions stage ------------------------------------------------------------------------
    def _stage_positions(self):
        from . import kernels_nb as kn

        nb = self.nb
        if nb is None:
            return
        if self._rebuild or (nb.periodic and self._ref_box is not None and not np.array_equal(self._ref_box, self.box)):
            self._rebuild = True
        elif nb.cutoff is None:
            self._pos_w[:] = self.pos
        else:
            m1, m2, n1, n2 = kn.displacement_stats(
                self.pos,
                self._ref_w,
                self.box,
                nb.periodic,
                self._pos_w,
                self._skin_eff / math.sqrt(2.0),
                0.5 * self._skin_eff,
            )
            if self.rebuild_rule == "sound":
                # no pair can have come from beyond r_list to inside the cutoff
                stale = m1 + m2 > self._skin_eff
            else:  # OpenMM CPU platform's heuristic (not a bound): one atom moved > skin/sqrt(2), or 10% > skin/2
                stale = n1 > 0 or n2 > 0.1 * self.n
            self._rebuild = bool(stale)
        self._rebuilding = self._rebuild
        if self._rebuild:
            self._sort()

    def _sort(self):
        from . import kernels_nb as kn
        from .cells import make_layout

        nb = self.nb
        if nb.cutoff is None:
            self._pos_w[:] = self.pos
            self._skin_eff = 0.0
        elif nb.periodic:
            if np.any(self.box <= 2.0 * nb.cutoff):
                raise ValueError(f"periodic box {self.box} is not larger than twice the cutoff {nb.cutoff}")
            # the list must see each pair through one image only: box > 2 (cutoff + skin)
            self._skin_eff = min(self.skin, 0.999 * (float(self.box.min()) / 2 - nb.cutoff))
            self._pos_w[:] = self.pos + kn.wrap_offsets(self.pos, self.box)
        else:
            self._skin_eff = self.skin
            self._pos_w[:] = self.pos
        self._ref_w = self._pos_w.copy()
        self._ref_box = self.box.copy()
        rl = (nb.cutoff or 0.0) + self._skin_eff
        # a periodic grid depends on the box only: kept across rebuilds while the box stays (the
        # serial part of a rebuild step is then the counting sort and the spans)
        geo = (self.box.tobytes(), nb.cutoff, self._skin_eff) if nb.periodic and nb.cutoff is not None else None
        if geo is None or geo != self._geo_key or self.layout is None:
            self.layout = make_layout(
                self._pos_w,
                self.box,
                nb.cutoff,
                self._skin_eff,
                self.cell_fraction * rl,
                nb.periodic,
                self.tiles,
                self.block_size,
            )
            self._geo_key = geo
            # the columns of each tile, then of each task's write set (its read tiles), as one CSR
            groups = list(self.layout.tiles) + [
                np.sort(np.concatenate([self.layout.tiles[b] for b in rt])) for rt in self.layout.read_tiles
            ]
            self._span_cols = np.concatenate(groups).astype(np.int64)
            self._span_ptr = np.concatenate([[0], np.cumsum([len(g) for g in groups])]).astype(np.int64)
        lay = self.layout
        n = self.n
        if nb.cutoff is None:
            self._order = np.arange(n, dtype=np.int32)
            self._col_start = np.minimum(np.arange(lay.ncols + 1, dtype=np.int64) * self.block_size, n)
        else:
            prev = self._order if self._sorted else None  # same z order as a full sort (z ties aside)
            self._order = np.empty(n, np.int32)
            self._col_start = np.empty(lay.ncols + 1, np.int64)
            col_of = np.empty(n, np.int32)
            kn.column_sort(
                self._pos_w, lay.origin, lay.wx, lay.wy, lay.ncx, lay.ncy, self._order, self._col_start, col_of, prev
            )
            self._sorted = True
        self._inv = np.empty(n, np.int32)
        self._inv[self._order] = np.arange(n, dtype=np.int32)
        flat, ptr = kn.spans_csr(self._span_cols, self._span_ptr, self._col_start)
        spans = [flat[ptr[k] : ptr[k + 1]] for k in range(len(ptr) - 1)]
        nt = len(lay.tiles)
        self._tile_spans = spans[:nt]
        # a task zeroes (and may write) the whole of every tile it touches, so a reduce that reads
        # its buffer over a tile never sees values left from an earlier step
        self._write_spans = spans[nt:]
        self._writers = lay.writers
        key = (lay.key(), lay.offs.tobytes(), self.precision)
        if key != self._layout_key:
            self._layout_key = key
            nt = len(lay.tiles)
            # mixed: float32 sorted data and force buffers, so the pair loop has no conversion and
            # runs 8 lanes wide (the reduction sums them in float64)
            dt = np.float64 if self.precision == "double" else np.float32
            pad = n + 8  # the mixed pair loop runs over whole 8-lane blocks: 8 spare (masked) entries
            self._nb_bufs = np.zeros((nt, 3, pad), dt)
            self._e_c = np.zeros(nt)
            self._e_lj = np.zeros(nt)
            self._npairs = np.zeros(nt, np.int64)
            self._ncand = np.zeros(nt, np.int64)
            self._build_cpu = np.zeros(nt)
            self._lists = [None] * nt
            self._masks = [np.ones((4, pad), dt) for _ in range(self.threads)]  # per worker, one row per cluster member
            self._dat = np.zeros((6, pad), dt)  # sorted x, y, z, q, sigma/2, sqrt(eps): one array for the kernels
            self._xs, self._ys, self._zs, self._qs_s, self._sh_s, self._se_s = self._dat
            self._graph = self._build_graph()
        L = lay.box if nb.periodic else np.zeros(3)
        sh = np.zeros((28, 3))  # 27 image shifts, and 28th (HOME): a cluster's own column and image
        for sx in (-1, 0, 1):
            for sy in (-1, 0, 1):
                for sz in (-1, 0, 1):
                    sh[(sx + 1) * 9 + (sy + 1) * 3 + (sz + 1)] = (sx * L[0], sy * L[1], sz * L[2])
        self._shifts = sh if self.precision == "double" else sh.astype(np.float32)
        self.rebuilds += 1

    # tasks ------------------------------------------------------------------------------------
    def _stage_can_run_in_graph(self) -> bool:
        """The positions stage may run as a task only if it cannot change the grid (and so the graph
        being run): a periodic cutoff whose box is the one of the last list build."""
        nb = self.nb
        if nb is None:
            return True
        return (
            self._graph is not None
            and nb.periodic
            and nb.cutoff is not None
            and self._ref_box is not None
            and np.array_equal(self._ref_box, self.box)
        )

    def _t_stage(self, wid):
        if self._stage_in_graph:
            self._timed_stage()

    def _timed_stage(self):
        import time

        t0 = time.perf_counter()
        c0 = time.thread_time()
        self._stage_positions()
        self._c_positions = time.thread_time() - c0
        self._t_positions = time.perf_counter() - t0

    def _t_gather(self, b, wid):
        from . import kernels_nb as kn

        spans = self._tile_spans[b]
        kn.gather_sorted(self._pos_w, self._order, spans, self._xs, self._ys, self._zs)
        if self._rebuilding:
            kn.gather_params(self.nb.qs, self._order, spans, self._qs_s)
            kn.gather_params(self.nb.sh, self._order, spans, self._sh_s)
            kn.gather_params(self.nb.se, self._order, spans, self._se_s)

    def _t_nb(self, t, wid):
        from . import kernels_cluster as kc
        from . import kernels_nb as kn
        from .kernels_nb import zero_spans

        nb = self.nb
        lay = self.layout
        if self._rebuilding or self._lists[t] is None:
            import time

            c0 = time.thread_time()
            cluster = self.kernel == "cluster"
            sp = self._tile_spans[t]
            if lay.nocut:
                if not len(sp):
                    lst = None
                elif cluster:
                    lst = kc.build_cluster_ranges_all(self.n, int(sp[0, 0]), int(sp[-1, 1]))
                else:
                    lst = kn.build_ranges_all(self.n, int(sp[0, 0]), int(sp[-1, 1]))
            else:
                rl = nb.cutoff + self._skin_eff
                build = kc.build_cluster_ranges if cluster else kn.build_ranges
                lst = build(
                    self._xs,
                    self._ys,
                    self._zs,
                    self._col_start,
                    lay.tiles[t],
                    lay.offs,
                    lay.ncx,
                    lay.ncy,
                    lay.wx,
                    lay.wy,
                    lay.origin,
                    lay.box,
                    lay.periodic,
                    rl * rl,
                )
            self._lists[t] = lst
            if lst is None:
                self._ncand[t] = 0
            else:  # candidate pairs visited (a cluster visits each j of its ranges for its 4 members)
                self._ncand[t] = (kc.CL if cluster else 1) * int(np.sum(lst[-2].astype(np.int64) - lst[-3]))
            self._build_cpu[t] = time.thread_time() - c0
        lst = self._lists[t]
        buf = self._nb_bufs[t]
        zero_spans(self._write_spans[t], buf[0], buf[1], buf[2])
        if lst is None or len(lst[0]) == 0:
            self._e_c[t] = self._e_lj[t] = 0.0
            self._npairs[t] = 0
            return
        rc = nb.cutoff if nb.cutoff is not None else 1e15  # finite: kernels use fastmath
        if self.kernel == "cluster":
            table = kc.CL_KERNELS if self.precision == "double" else kc.CL_KERNELS_MIXED
            kern = getattr(kc, table[nb.mode])
        else:
            table = kn.NB_KERNELS if self.precision == "double" else kn.NB_KERNELS_MIXED
            kern = getattr(kn, table[nb.mode])
        ec, elj, npairs = kern(
            self._dat,
            self._order,
            self._inv,
            nb.excl_ptr,
            nb.excl_idx,
            self._masks[wid] if self.kernel == "cluster" else self._masks[wid][0],
            *lst,
            self._shifts,
            rc * rc,
            nb.krf,
            nb.crf,
            nb.alpha,
            nb.use_switch,
            nb.switch_distance,
            rc,
            buf,
        )
        self._e_c[t] = ec
        self._e_lj[t] = elj
        self._npairs[t] = npairs

    def _t_reduce(self, b, wid):
        from .kernels_nb import reduce_block

        reduce_block(
            self._tile_spans[b],
            self._order,
            self._nb_bufs,
            self._writers[b],
            self._bonded_bufs,
            self._b_lo,
            self._b_hi,
            self.forces,
        )

    # step -------------------------------------------------------------------------------------
    def compute(self, positions, box=None):
        """Energy (kJ/mol) and forces (kJ/mol/nm, float64 (n, 3)) for positions in nm."""
        import time

        self.pos = np.ascontiguousarray(positions, dtype=np.float64)
        if box is not None:
            self.box = np.ascontiguousarray(box, dtype=np.float64)
        t0 = time.perf_counter()
        self._stage_in_graph = self._stage_can_run_in_graph()
        if not self._stage_in_graph:
            self._timed_stage()
        self.scheduler.run(self._graph)
        self.t_step = time.perf_counter() - t0  # wall seconds of this evaluation: stage and graph
        self.t_total += self.t_step
        if self.steps % 16 == 1:
            self._learn_costs()
        rebuilt = self._rebuilding
        if rebuilt and self.nb is not None:
            self.list_builds += 1
            self.list_build_cpu += float(self._build_cpu.sum())
        self._rebuild = False
        self._rebuilding = False
        terms = {}
        for c, (name, b, *_rest) in enumerate(self._bonded_chunks):
            terms[b.kind] = terms.get(b.kind, 0.0) + float(self._e_b[c])
        info = StepInfo(rebuilt=rebuilt)
        if self.nb is not None:
            terms["coulomb"] = float(np.sum(self._e_c))
            terms["lj"] = float(np.sum(self._e_lj))
            if self.nb.dispersion_coeff:
                terms["dispersion"] = self.nb.dispersion_coeff / float(np.prod(self.box))
            info.pairs = int(self._npairs.sum())
            info.candidates = int(self._ncand.sum())
        info.terms = terms
        info.energy = float(sum(terms.values()))
        self.last = info
        self.steps += 1
        return info.energy, self.forces

    def _learn_costs(self):
        """Task costs for the scheduler's priorities from the measured CPU time of each task in the
        last step (wall time would count the time a task was preempted on a shared machine),
        smoothed; they only order ready tasks, so results do not depend on them."""
        tasks = self._graph.tasks
        for (k, *_), c in zip(self.scheduler.trace, self.scheduler.cpu):
            t = tasks[k]
            dt = 1e3 * c  # ms
            t.cost = dt if self.steps <= 1 else 0.5 * (t.cost + dt)
        self._place_tiles(self._graph)  # the workers' stretches of the curve follow the measured costs
        self.scheduler._compiled = None  # recompile priorities

    def __call__(self, state):
        pos = state.getPositions(asNumpy=True)._value
        if self.global_parameters:
            self._apply_globals(state.getParameters())
        box = None
        if (self.nb is not None and self.nb.periodic) or any(b.periodic for b in self.bonded):
            vecs = np.asarray(state.getPeriodicBoxVectors(asNumpy=True)._value)
            if np.any(np.abs(vecs - np.diag(np.diag(vecs))) > 1e-12):
                return self._fallback(pos, vecs)
            box = np.diag(vecs)
        energy, forces = self.compute(pos, box)
        return energy, forces

    # parameters ---------------------------------------------------------------------------------
    def _apply_globals(self, params):
        changed = {
            k: float(params[k])
            for k in self.global_parameters
            if k in params and float(params[k]) != self._globals_seen.get(k)
        }
        if not changed:
            return
        self._globals_seen.update(changed)
        nb = self.nb
        if nb is not None and nb.mode == 3:  # coarse-grained: kappa, kdh
            if "kappa" in changed:
                nb.krf = changed["kappa"]
            if "kdh" in changed:
                nb.crf = changed["kdh"]

    def update_nonbonded(self, force):
        """Re-read per-particle and exception parameters of a NonbondedForce (same exclusions), as
        ``NonbondedForce.updateParametersInContext`` does for OpenMM's own implementation."""
        from .openmm_system import _nonbonded_params

        if self.nb is None:
            raise ValueError("this backend has no non-bonded part")
        params, exc, _ = _nonbonded_params(force, self.n, None)
        if not np.array_equal(params.excl_idx, self.nb.excl_idx) or not np.array_equal(
            params.excl_ptr, self.nb.excl_ptr
        ):
            raise ValueError("updateParametersInContext cannot change which pairs are exceptions")
        for name in ("qs", "sh", "se"):
            getattr(self.nb, name)[:] = getattr(params, name)
        self.nb.dispersion_coeff = params.dispersion_coeff
        for b in self.bonded:
            if b.kind == "exceptions" and b.source == "NonbondedForce":
                keep, old_all = b.extra
                new_all = exc.extra[1]
                if new_all.shape != old_all.shape:
                    raise ValueError("updateParametersInContext cannot add or remove exceptions")
                dropped = np.setdiff1d(np.arange(len(new_all)), keep)
                if np.any(new_all[dropped] != 0.0):
                    raise ValueError(
                        "an exception that was zero (and dropped) became non-zero; rebuild the dataflow system"
                    )
                b.prm[:] = new_all[keep]
        self._rebuild = True  # re-gather the sorted parameters

    # fallback -------------------------------------------------------------------------------------
    def _fallback(self, pos, vecs):
        """Triclinic box: the backend's terms are evaluated by OpenMM's own CPU implementation."""
        import openmm as mm

        if self.fallback_xml is None:
            raise NotImplementedError("kenkyu.kernels_md: triclinic periodic boxes are not supported (no fallback)")
        if not self._warned_triclinic:
            warnings.warn(
                "kenkyu.kernels_md: triclinic box: the backend's forces are computed by OpenMM's own "
                "CPU implementation (fallback) while the box stays triclinic",
                stacklevel=2,
            )
            self._warned_triclinic = True
        if self._fallback_ctx is None:
            system = mm.XmlSerializer.deserialize(self.fallback_xml)
            plat = mm.Platform.getPlatformByName("CPU")
            self._fallback_ctx = mm.Context(system, mm.VerletIntegrator(0.001), plat, {"Threads": str(self.threads)})
        ctx = self._fallback_ctx
        ctx.setPeriodicBoxVectors(*[mm.Vec3(*v) for v in vecs])
        ctx.setPositions(pos)
        st = ctx.getState(getEnergy=True, getForces=True, groups=(1 << 31) - 1 & ~(1 << 30))
        return st.getPotentialEnergy()._value, np.asarray(st.getForces(asNumpy=True)._value)

    # reports ------------------------------------------------------------------------------------
    def describe(self) -> str:
        lines = [
            (
                f"DataflowBackend: {self.n} particles, force group {self.group}, {self.threads} threads "
                f"({'serial path' if self.scheduler.serial else 'persistent workers'}), policy={self.policy}, "
                f"precision={self.precision}, skin={self.skin} nm, rebuild rule={self.rebuild_rule}"
            ),
        ]
        if self.nb is not None:
            names = {0: "no cutoff", 1: "reaction field", 2: "Ewald direct space", 3: "CG repulsion + Debye-Hueckel"}
            lines.append(f"  nonbonded: {names[self.nb.mode]}, cutoff={self.nb.cutoff}, periodic={self.nb.periodic}")
            if self.layout is not None:
                lines.append(f"  grid: {self.layout.describe()}")
        for b in self.bonded:
            lines.append(f"  bond engine: {b.kind}: {len(b.idx)} terms (from {b.source})")
        if self._graph is not None:
            g = self._graph
            kinds = ", ".join(f"{k}: {n}" for k, n in g.kinds().items())
            lines.append(f"  graph: {len(g.tasks)} tasks, {len(g.edges())} edges ({kinds})")
        if self.steps:
            line = (
                f"  steps: {self.steps}, list rebuilds: {self.rebuilds} "
                f"({100.0 * self.rebuilds / self.steps:.1f} per 100 steps)"
            )
            if self.list_builds:
                line += f", {self.list_build_ms():.1f} ms CPU per build (pair-list search of all tiles)"
            lines.append(line)
            if self.scheduler.trace:
                from .timeline import step_summary

                lines.append("  last step: " + step_summary(self))
        return "\n".join(lines)

    def list_build_ms(self) -> float:
        """Mean CPU milliseconds of one pair-list build (all tiles' searches together, whichever
        worker ran them); nan before the first build."""
        return 1e3 * self.list_build_cpu / self.list_builds if self.list_builds else float("nan")

    def timings(self) -> dict:
        """Per task kind: (count, total wall seconds) accumulated since the last reset."""
        return {k: (v[0], v[1]) for k, v in self.scheduler.stats.items()}

    def cpu_timings(self) -> dict:
        """Per task kind: (count, total CPU seconds of the threads that ran them) since the last reset."""
        return {k: (v[0], v[2]) for k, v in self.scheduler.stats.items()}

    def timeline(self, ax=None):
        """Matplotlib figure of the last step: one row per worker, the critical path outlined."""
        from .timeline import plot_timeline

        return plot_timeline(self, ax=ax)

    def task_features(self) -> dict:
        """Per task of the last step: the work measures the performance model uses."""
        from .timeline import task_features

        return task_features(self)
