"""What one step looked like: the trace of the last run of a backend's task graph, its critical path,
where each worker waited, and a timeline figure.

The critical path is the longest chain of dependent tasks with their *measured* durations (plus
the ``positions`` stage where the caller runs it before the graph): no schedule on any number of workers
can finish the graph faster.
"""

from __future__ import annotations

from collections import defaultdict

KIND_COLOURS = {
    "positions": "#7f7f7f",
    "gather": "#9edae5",
    "nonbonded": "#1f77b4",
    "reduce": "#2ca02c",
    "bonds": "#ff7f0e",
    "angles": "#ffbb78",
    "torsions": "#d62728",
    "rb_torsions": "#ff9896",
    "exceptions": "#9467bd",
    "cmap": "#8c564b",
    "contacts": "#e377c2",
}


def durations(backend):
    """{task name: seconds} of the last step (positions: the caller's stage)."""
    g = backend.graph()
    d = {t.name: 0.0 for t in g.tasks}
    for k, _, a, b in backend.scheduler.trace:
        d[g.tasks[k].name] = b - a
    if not getattr(backend, "_stage_in_graph", False):  # the caller ran the stage before the graph
        d["positions"] = getattr(backend, "_t_positions", 0.0)
    return d


def critical_path(graph, dur):
    """(length in seconds, [task names]) of the longest dependency chain under durations ``dur``."""
    finish = {}
    best = {}
    for t in _topological(graph):
        start = 0.0
        arg = None
        for d in t.deps:
            if finish[d] > start:
                start = finish[d]
                arg = d
        finish[t.name] = start + dur.get(t.name, 0.0)
        best[t.name] = arg
    end = max(finish, key=finish.get)
    path = [end]
    while best[path[-1]] is not None:
        path.append(best[path[-1]])
    return finish[end], path[::-1]


def _topological(graph):
    indeg = {t.name: len(t.deps) for t in graph.tasks}
    ready = [t.name for t in graph.tasks if not t.deps]
    out = []
    while ready:
        n = ready.pop(0)
        out.append(graph.by_name[n])
        for m in graph.dependents[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    return out


def step_summary(backend) -> str:
    dur = durations(backend)
    length, path = critical_path(backend.graph(), dur)
    sched = backend.scheduler
    waits = sched.worker_waits()
    work = sum(dur.values())
    wall = sched.t_run + (0.0 if getattr(backend, "_stage_in_graph", False) else dur["positions"])
    kinds = defaultdict(float)
    for name in path:
        kinds[backend.graph().by_name[name].kind] += dur[name]
    chain = " -> ".join(f"{k} {1e3 * v:.2f}" for k, v in kinds.items())
    idle = ", ".join(f"w{w} {1e3 * i:.2f}" for w, (_, i) in sorted(waits.items()))
    return (
        f"{1e3 * wall:.2f} ms wall, {1e3 * work:.2f} ms of task work, critical path {1e3 * length:.2f} ms "
        f"({len(path)} tasks: {chain} ms), worker idle ms: {idle}"
    )


def cpu_durations(backend):
    """{task name: CPU seconds of its thread} of the last step (positions: the caller's stage); unlike
    wall durations these leave out the time a task was preempted on a shared machine."""
    g = backend.graph()
    d = {t.name: 0.0 for t in g.tasks}
    for (k, *_), c in zip(backend.scheduler.trace, backend.scheduler.cpu):
        d[g.tasks[k].name] = c
    if not getattr(backend, "_stage_in_graph", False):
        d["positions"] = getattr(backend, "_c_positions", 0.0)
    return d


def task_features(backend) -> dict:
    """Per task of the last step: kind, measured seconds (wall, and ``cpu_seconds`` of its thread)
    and the work measures of the model (non-bonded: pairs inside the cutoff and candidate pairs
    visited; others: items handled)."""
    g = backend.graph()
    dur = durations(backend)
    cpu = cpu_durations(backend)
    out = {}
    nt = len(getattr(backend, "_npairs", []))
    for t in g.tasks:
        f = {"kind": t.kind, "seconds": dur[t.name], "cpu_seconds": cpu[t.name]}
        if t.kind == "nonbonded":
            k = int(t.name.split("[")[1][:-1])
            if k < nt:
                f["pairs"] = int(backend._npairs[k])
                f["candidates"] = int(backend._ncand[k])
                lst = backend._lists[k]
                f["atoms"] = int(lst[1].sum()) if lst is not None else 0
                f["ranges"] = int(len(lst[3])) if lst is not None else 0
        elif t.kind in ("gather", "reduce"):
            k = int(t.name.split("[")[1][:-1])
            sp = backend._tile_spans[k]
            f["atoms"] = int((sp[:, 1] - sp[:, 0]).sum()) if len(sp) else 0
            if t.kind == "reduce":
                f["writers"] = int(len(backend._writers[k]))
        elif t.kind == "positions":
            f["atoms"] = backend.n
        else:
            f["terms"] = int(t.info.split()[0]) if t.info else 0
        out[t.name] = f
    return out


def plot_timeline(backend, ax=None):
    """One row per worker: each task of the last step as a bar coloured by kind; the critical path
    outlined in black; gaps are waits."""
    import matplotlib.pyplot as plt

    g = backend.graph()
    trace = backend.scheduler.trace
    dur = durations(backend)
    _, path = critical_path(g, dur)
    on_path = set(path)
    before = not getattr(backend, "_stage_in_graph", False)  # stage run by the caller, before the graph
    t_pos = dur["positions"] if before else 0.0
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 1.2 + 0.6 * max(1, backend.scheduler.nthreads)))
    else:
        fig = ax.figure
    if before:
        ax.barh(0, 1e3 * t_pos, left=0.0, color=KIND_COLOURS["positions"], edgecolor="black", linewidth=1.5)
    seen = set()
    for k, w, a, b in trace:
        t = g.tasks[k]
        colour = KIND_COLOURS.get(t.kind, "#bcbd22")
        label = t.kind if t.kind not in seen else None
        seen.add(t.kind)
        ax.barh(
            w,
            1e3 * (b - a),
            left=1e3 * (t_pos + a),
            color=colour,
            label=label,
            edgecolor="black" if t.name in on_path else colour,
            linewidth=1.5 if t.name in on_path else 0.3,
        )
    ax.set_yticks(range(backend.scheduler.nthreads))
    ax.set_yticklabels([f"worker {w}" for w in range(backend.scheduler.nthreads)])
    ax.invert_yaxis()
    ax.set_xlabel("ms since the step started")
    ax.set_title(
        f"one step: {len(g.tasks)} tasks; critical path outlined ({step_summary(backend).split(',')[2].strip()})",
        fontsize=9,
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=6, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
