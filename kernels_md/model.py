"""A performance model of the dataflow backend, after MDGRAPE-5's design questions: what does a step
cost on P workers, and on a machine of dataflow nodes?

1. **Task costs** (:func:`fit_costs`): from measured profiles (:meth:`DataflowBackend.task_features`
   over a few steps), a least-squares fit per task kind of ``seconds = fixed + sum(coef * measure)``:
   non-bonded tasks on candidate pairs visited, pairs inside the cutoff and i atoms; gather on
   atoms; reduce on atoms x writers; bond-engine chunks on terms; plus the list rebuild extra (per
   candidate) and a per-task dispatch overhead of the scheduler.
2. **Schedule** (:func:`simulate`): list scheduling of the step's task graph on P workers with the
   scheduler's own policy (longest task first among the ready ones), each dispatch costing the fitted
   overhead.  ``predict_step`` = makespan (the positions stage a root task beside the bond engine) + rebuild
   extra x rebuild rate.
3. **A dataflow machine** (:class:`DataflowMachine`): ``nodes`` nodes of ``pipelines`` workers each,
   of ``speed`` times one measured core, joined by links of ``latency`` and ``bandwidth``.  Tiles
   are spread over nodes in x-slabs; a task waits for each tile it reads from another node for
   ``latency + bytes / bandwidth`` (24 bytes per atom of coordinates) and its forces for a remote
   tile arrive the same way before that tile's reduce.  :func:`synthetic_graph` builds the graph of
   a system of N atoms (all-atom water-like density or a C-alpha coarse-grained model) from the
   geometry, with costs from a fit, so ms/step can be predicted against atoms and nodes.

Assumptions (stated, not hidden): costs are linear in the measures above; memory bandwidth does not
saturate when workers are added (on a real socket it does, so predictions at many threads are
optimistic); the Python dispatch cost per task is constant and serialised by the GIL only while a
task starts; synthetic systems are uniform (protein-like density everywhere), and the list rebuild
rate is that measured on the profiled system.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from .taskgraph import bottom_levels

MEASURES = {
    "nonbonded": ("candidates", "pairs", "atoms"),
    "gather": ("atoms",),
    "reduce": ("atoms_writers",),
    "positions": ("atoms",),
}


@dataclass
class CostModel:
    coef: dict = field(default_factory=dict)  # kind -> (fixed, {measure: seconds per unit})
    overhead: float = 0.0  # seconds of scheduler dispatch per task
    rebuild_per_candidate: float = 0.0  # extra seconds per candidate pair on a list-rebuild step
    rebuild_serial: float = 0.0  # extra seconds of the serial positions stage (the sort) on a rebuild step
    rebuild_rate: float = 0.0  # list rebuilds per step
    meta: dict = field(default_factory=dict)

    def cost(self, kind, feats) -> float:
        fixed, per = self.coef.get(kind, self.coef.get("bonded", (0.0, {})))
        return max(0.0, fixed + sum(c * feats.get(m, 0.0) for m, c in per.items()))

    def describe(self) -> str:
        lines = ["task costs (fitted):"]
        for k, (fixed, per) in sorted(self.coef.items()):
            terms = " + ".join(f"{1e9 * c:.3g} ns x {m}" for m, c in per.items())
            lines.append(f"  {k:<10} {1e6 * fixed:8.2f} us + {terms}")
        lines.append(
            f"  dispatch overhead per task {1e6 * self.overhead:.1f} us; list rebuild extra "
            f"{1e9 * self.rebuild_per_candidate:.3g} ns per candidate pair (parallel) + "
            f"{1e3 * self.rebuild_serial:.2f} ms serial sort, {self.rebuild_rate:.3f} rebuilds/step"
        )
        return "\n".join(lines)


def _features(f):
    out = dict(f)
    if f["kind"] == "reduce":
        out["atoms_writers"] = f.get("atoms", 0) * (f.get("writers", 0) + 1)
    return out


CLOCKS = ("wall", "cpu")


def collect(backend, compute_step, steps=10, clock="wall"):
    """Run ``compute_step()`` (one force evaluation of ``backend``) ``steps`` times; per step:
    (task features, seconds of the backend's compute, whether the lists were rebuilt).

    ``clock="cpu"`` times the compute by the calling thread's CPU time: at one thread that is the
    step's time on a quiet machine, even when the machine is shared (wall time then counts the time
    the process was preempted)."""
    import time

    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {CLOCKS}")
    now = time.perf_counter if clock == "wall" else time.thread_time
    samples = []
    for _ in range(steps):
        t0 = now()
        compute_step()
        samples.append((backend.task_features(), now() - t0, backend.last.rebuilt))
    return samples


def fit_costs(samples, threads=1, clock="wall") -> CostModel:
    """Fit per-kind costs from samples of :func:`collect` (best measured at ``threads=1``), on the
    tasks' wall seconds or, with ``clock="cpu"`` (samples collected with the same clock), on the CPU
    seconds of their threads."""
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {CLOCKS}")
    key = "seconds" if clock == "wall" else "cpu_seconds"
    rows = {}
    plain_only = any(not r for *_, r in samples)
    for feats, _, rebuilt in samples:
        if rebuilt and plain_only:
            continue
        for f in feats.values():
            kind = f["kind"] if f["kind"] in MEASURES else "bonded"
            rows.setdefault(kind, []).append(dict(_features(f), seconds=f[key]))
    model = CostModel()
    for kind, rs in rows.items():
        if kind == "bonded":
            names = ("terms",)
        else:
            names = MEASURES[kind]
        x = np.array([[r.get(m, 0.0) for m in names] + [1.0] for r in rs], np.float64)
        y = np.array([r["seconds"] for r in rs])
        coef = _nnls(x, y)
        model.coef[kind] = (float(coef[-1]), {m: float(c) for m, c in zip(names, coef[:-1])})
    # dispatch overhead: what the 1-thread wall time has beyond the tasks
    plain = [(feats, wall) for feats, wall, rebuilt in samples if not rebuilt]
    if plain and threads == 1:
        extra = [wall - sum(f[key] for f in feats.values()) for feats, wall in plain]
        model.overhead = max(0.0, float(np.median(extra)) / max(1, len(plain[0][0])))
    rebuilt = [(feats, wall) for feats, wall, r in samples if r]
    if rebuilt and plain:
        # the positions stage (serial: the sort) apart from the tasks' list builds (parallel)
        p_plain = np.median([feats["positions"][key] for feats, _ in plain])
        p_reb = np.median([feats["positions"][key] for feats, _ in rebuilt])
        t_plain = np.median([sum(f[key] for f in feats.values()) for feats, _ in plain]) - p_plain
        cands = np.median([sum(f.get("candidates", 0) for f in feats.values()) for feats, _ in rebuilt])
        t_reb = np.median([sum(f[key] for f in feats.values()) for feats, _ in rebuilt]) - p_reb
        model.rebuild_per_candidate = max(0.0, float(t_reb - t_plain) / max(1.0, cands))
        model.rebuild_serial = max(0.0, float(p_reb - p_plain))
    model.rebuild_rate = sum(1 for *_, r in samples if r) / max(1, len(samples))
    return model


def _nnls(x, y):
    """Least squares with non-negative coefficients (small active-set loop)."""
    active = np.ones(x.shape[1], bool)
    for _ in range(x.shape[1]):
        coef = np.zeros(x.shape[1])
        if active.any():
            sol, *_ = np.linalg.lstsq(x[:, active], y, rcond=None)
            coef[active] = sol
        if (coef >= 0).all():
            return coef
        active &= coef > 0
    return np.clip(coef, 0, None)


@dataclass
class SimTask:
    name: str
    kind: str
    deps: tuple
    cost: float
    node: int = 0
    out_bytes: float = 0.0  # bytes sent to each remote consumer


def graph_tasks(backend, model: CostModel):
    """The backend's current graph as SimTasks with modelled costs (from its last step's measures).
    The positions stage is a task (its sort averaged over steps by the rebuild rate) where the
    backend runs it in the graph, beside the bond engine; otherwise it costs nothing here and
    :func:`predict_step` adds it before the graph."""
    feats = backend.task_features()
    in_graph = getattr(backend, "_stage_in_graph", False)
    out = []
    for t in backend.graph().tasks:
        f = _features(feats[t.name])
        kind = f["kind"] if f["kind"] in MEASURES else "bonded"
        if t.name == "positions":
            stage = model.cost("positions", {"atoms": backend.n}) + model.rebuild_rate * model.rebuild_serial
            cost = stage if in_graph else 0.0
        else:
            cost = model.cost(kind, f)
        out.append(SimTask(t.name, t.kind, tuple(t.deps), cost, 0, 24.0 * f.get("atoms", 0)))
    return out


def simulate(tasks, workers=1, overhead=0.0, nodes=None, latency=0.0, bandwidth=math.inf):
    """Makespan (seconds) of list scheduling of ``tasks`` (event driven: a free worker takes the longest
    of the tasks whose inputs have arrived, by remaining path as the scheduler's ``lpt`` policy does).

    ``workers``: workers per node; ``nodes``: None (one node) or the node count, each task pinned to
    ``task.node``; an edge between nodes delays the consumer by latency + bytes / bandwidth; each task
    start costs ``overhead``.  Returns (makespan, {task name: (node, worker, start, end)})."""
    by = {t.name: t for t in tasks}
    dependents = {t.name: [] for t in tasks}
    for t in tasks:
        for d in t.deps:
            dependents[d].append(t.name)
    nn = nodes or 1
    idle = [list(range(workers)) for _ in range(nn)]
    ready = [[] for _ in range(nn)]
    remaining = {t.name: len(t.deps) for t in tasks}
    avail = {t.name: 0.0 for t in tasks}
    events = []
    seq = 0
    for t in tasks:
        if not t.deps:
            heapq.heappush(events, (0.0, 1, seq, t.name, -1))
            seq += 1
    level = dict(zip(by, bottom_levels(list(by), [t.deps for t in tasks], [t.cost for t in tasks])))
    done = {}
    clock = 0.0
    while events:
        now = events[0][0]
        while events and events[0][0] <= now:
            _, kind, _, name, w = heapq.heappop(events)
            t = by[name]
            node = t.node % nn
            if kind == 0:  # finished
                idle[node].append(w)
                clock = max(clock, now)
                for d in dependents[name]:
                    dst = by[d]
                    delay = latency + t.out_bytes / bandwidth if (nodes and dst.node % nn != node) else 0.0
                    avail[d] = max(avail[d], now + delay)
                    remaining[d] -= 1
                    if remaining[d] == 0:
                        heapq.heappush(events, (avail[d], 1, seq, d, -1))
                        seq += 1
            else:  # inputs arrived
                heapq.heappush(ready[node], (-level[name], seq, name))
                seq += 1
        for node in range(nn):
            while idle[node] and ready[node]:
                _, _, name = heapq.heappop(ready[node])
                w = idle[node].pop()
                end = now + by[name].cost + overhead
                done[name] = (node, w, now, end)
                heapq.heappush(events, (end, 0, seq, name, w))
                seq += 1
    return clock, done


def predict_step(backend, model: CostModel, workers: int) -> float:
    """Predicted seconds of one force evaluation of ``backend`` on ``workers`` threads (the average
    over steps, list rebuilds included)."""
    tasks = graph_tasks(backend, model)
    before = 0.0  # the positions stage run by the caller before the graph (none when it is a task)
    if not getattr(backend, "_stage_in_graph", False):
        before = model.cost("positions", {"atoms": backend.n}) + model.rebuild_rate * model.rebuild_serial
    span, _ = simulate(tasks, workers, model.overhead)
    cands = backend.last.candidates or sum(int(x) for x in getattr(backend, "_ncand", []))
    rebuild = model.rebuild_rate * model.rebuild_per_candidate * cands / max(1, workers)
    return before + span + rebuild


# --- synthetic systems and the dataflow machine -------------------------------------------------------


SYSTEMS = {
    # atoms per nm^3, cutoff nm, skin nm, bonded terms per atom, column width as fraction of r_list
    "all-atom": {"density": 100.0, "cutoff": 1.0, "skin": 0.12, "bonded_per_atom": 1.0, "periodic": True},
    # C-alpha Go model: ~ one bead per 0.12 nm^3 of protein, 3 nm cutoff Debye-Hueckel, no solvent
    "coarse-grained": {"density": 8.0, "cutoff": 3.0, "skin": 0.3, "bonded_per_atom": 6.0, "periodic": False},
}


@dataclass
class DataflowMachine:
    nodes: int = 1
    pipelines: int = 1  # workers per node
    speed: float = 1.0  # pipeline speed relative to one measured CPU core
    latency: float = 1e-6  # seconds per message
    bandwidth: float = 10e9  # bytes per second per link
    overhead: float | None = None  # per-task dispatch (None: the fitted CPU value / speed)


def synthetic_graph(n_atoms, model: CostModel, system="all-atom", tiles=None, nodes=1, cell_fraction=0.25):
    """SimTasks of one step of a uniform system of ``n_atoms`` (kind ``system`` of :data:`SYSTEMS`),
    costed with ``model``; tiles spread over ``nodes`` nodes in x-slabs."""
    from .cells import make_layout

    p = SYSTEMS[system]
    rho, rc, skin = p["density"], p["cutoff"], p["skin"]
    rl = rc + skin
    edge = max((n_atoms / rho) ** (1 / 3), 2.0 * rl * 1.01)
    box = np.full(3, edge)
    tiles = tiles or max(1, min(4096, n_atoms // 1000))
    lay = make_layout(
        np.zeros((1, 3)) + edge / 2 if p["periodic"] else np.array([[0, 0, 0], [edge, edge, edge]]),
        box,
        rc,
        skin,
        cell_fraction * rl,
        True,
        tiles,
    )
    ncols = lay.ncols
    per_col = n_atoms / ncols
    eff = model.meta.get("candidate_ratio", 1.6)  # candidates per pair within r_list, measured
    pairs_per_atom = 0.5 * rho * 4.0 / 3.0 * math.pi * rc**3
    cand_per_atom = 0.5 * rho * 4.0 / 3.0 * math.pi * rl**3 * eff
    if not p["periodic"]:  # finite globule: on average ~60% of a full sphere of neighbours inside
        pairs_per_atom *= 0.6
        cand_per_atom *= 0.6
    tasks = [SimTask("positions", "positions", (), 0.0, 0, 0.0)]
    nt = len(lay.tiles)

    def xs_node(t):  # tiles spread over nodes in x-slabs
        return min(nodes - 1, int(nodes * (lay.tiles[t][0] // lay.ncy) / lay.ncx))

    for b in range(nt):
        atoms = per_col * len(lay.tiles[b])
        tasks.append(
            SimTask(
                f"gather[{b}]",
                "gather",
                ("positions",),
                model.cost("gather", {"atoms": atoms}),
                xs_node(b),
                24.0 * atoms,
            )
        )
    for t in range(nt):
        atoms = per_col * len(lay.tiles[t])
        f = {"atoms": atoms, "pairs": atoms * pairs_per_atom, "candidates": atoms * cand_per_atom}
        deps = tuple(f"gather[{b}]" for b in lay.read_tiles[t])
        tasks.append(
            SimTask(
                f"nonbonded[{t}]",
                "nonbonded",
                deps,
                model.cost("nonbonded", f),
                xs_node(t),
                24.0 * per_col * len(lay.write_cols[t]) / max(1, len(lay.read_tiles[t])),
            )
        )
    nb_chunks = max(1, math.ceil(n_atoms * p["bonded_per_atom"] / 4096))
    for c in range(nb_chunks):
        terms = n_atoms * p["bonded_per_atom"] / nb_chunks
        tasks.append(
            SimTask(
                f"bonded[{c}]", "bonds", ("positions",), model.cost("bonded", {"terms": terms}), c % nodes, 24.0 * terms
            )
        )
    for b in range(nt):
        atoms = per_col * len(lay.tiles[b])
        w = len(lay.writers[b])
        deps = tuple(f"nonbonded[{t}]" for t in lay.writers[b]) + tuple(f"bonded[{c}]" for c in range(nb_chunks))
        tasks.append(
            SimTask(
                f"reduce[{b}]",
                "reduce",
                deps,
                model.cost("reduce", {"atoms_writers": atoms * (w + 1)}),
                xs_node(b),
                0.0,
            )
        )
    return tasks


def predict_machine(n_atoms, model: CostModel, machine: DataflowMachine, system="all-atom", tiles=None):
    """Predicted seconds per step of a ``system`` of ``n_atoms`` on a :class:`DataflowMachine`."""
    tiles = tiles or max(machine.nodes * machine.pipelines * 2, n_atoms // 1000, 1)
    tasks = synthetic_graph(n_atoms, model, system, tiles=tiles, nodes=machine.nodes)
    for t in tasks:
        t.cost /= machine.speed
    overhead = model.overhead / machine.speed if machine.overhead is None else machine.overhead
    span, _ = simulate(
        tasks, machine.pipelines, overhead, nodes=machine.nodes, latency=machine.latency, bandwidth=machine.bandwidth
    )
    pos = model.cost("positions", {"atoms": n_atoms / machine.nodes}) / machine.speed
    return pos + span
