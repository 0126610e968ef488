"""The task graph: plain data you can inspect and print.

A :class:`Task` has a name, a kind (``positions``, ``bin``, ``nlist``, ``nonbonded``, ``bonds``,
``angles``, ``torsions``, ``rb_torsions``, ``exceptions``, ``contacts``, ``reduce``), the names
of the tasks whose outputs it consumes, an estimated cost used by the scheduling policy, and the
callable that runs it (``fn(worker_id)``).  A task fires as soon as all of its inputs are done; no
other ordering exists, so there is no barrier between task kinds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Task:
    name: str
    kind: str
    deps: tuple[str, ...] = ()
    cost: float = 1.0
    fn: Callable[[int], None] | None = field(default=None, repr=False, compare=False)
    info: str = ""
    # where the task's data lies along the step's space-filling curve, in [0, 1) (None: anywhere);
    # the "locality" policy gives worker int(place * P) of P the task, and runs a worker's tasks
    # of one kind in curve order, so consecutive tasks share the tiles they read
    place: float | None = None


@dataclass
class TaskGraph:
    tasks: list[Task]

    def __post_init__(self):
        self.by_name = {t.name: t for t in self.tasks}
        if len(self.by_name) != len(self.tasks):
            raise ValueError("duplicate task names in graph")
        for t in self.tasks:
            for d in t.deps:
                if d not in self.by_name:
                    raise ValueError(f"task {t.name!r} depends on unknown task {d!r}")
        self.dependents: dict[str, list[str]] = {t.name: [] for t in self.tasks}
        for t in self.tasks:
            for d in t.deps:
                self.dependents[d].append(t.name)
        self._check_acyclic()

    def _check_acyclic(self):
        indeg = {t.name: len(t.deps) for t in self.tasks}
        ready = [n for n, k in indeg.items() if k == 0]
        seen = 0
        while ready:
            n = ready.pop()
            seen += 1
            for m in self.dependents[n]:
                indeg[m] -= 1
                if indeg[m] == 0:
                    ready.append(m)
        if seen != len(self.tasks):
            raise ValueError("task graph has a cycle")

    def levels(self) -> list[float]:
        """Per task (graph order): its cost plus the longest cost chain after it (the "bottom level"
        of list scheduling).  Taking the ready task of highest level first starts early what the
        rest of the step waits for (a gather that unlocks non-bonded tasks before a bonded chunk
        of the same cost)."""
        return bottom_levels([t.name for t in self.tasks], [t.deps for t in self.tasks], [t.cost for t in self.tasks])

    def roots(self) -> list[Task]:
        return [t for t in self.tasks if not t.deps]

    def kinds(self) -> Counter:
        return Counter(t.kind for t in self.tasks)

    def edges(self) -> list[tuple[str, str]]:
        return [(d, t.name) for t in self.tasks for d in t.deps]

    def to_dict(self) -> dict:
        return {
            "tasks": [
                {"name": t.name, "kind": t.kind, "deps": list(t.deps), "cost": t.cost, "info": t.info}
                for t in self.tasks
            ]
        }

    def describe(self, max_tasks: int = 40) -> str:
        kinds = ", ".join(f"{k}: {n}" for k, n in self.kinds().items())
        lines = [f"TaskGraph: {len(self.tasks)} tasks, {len(self.edges())} edges ({kinds})"]
        for t in self.tasks[:max_tasks]:
            deps = ", ".join(t.deps) if len(t.deps) <= 4 else f"{', '.join(t.deps[:3])}, ... ({len(t.deps)})"
            lines.append(f"  {t.name:<22} {t.kind:<11} cost={t.cost:<10.3g} <- [{deps}] {t.info}")
        if len(self.tasks) > max_tasks:
            lines.append(f"  ... {len(self.tasks) - max_tasks} more")
        return "\n".join(lines)

    __str__ = describe


def bottom_levels(names, deps, costs) -> list[float]:
    """cost[k] + max over the dependents of k of their level, for a DAG given as parallel lists."""
    ids = {n: k for k, n in enumerate(names)}
    after = [[] for _ in names]
    indeg = [0] * len(names)
    for k, ds in enumerate(deps):
        for d in ds:
            after[ids[d]].append(k)
            indeg[k] += 1
    order = []
    ready = [k for k in range(len(names)) if indeg[k] == 0]
    while ready:
        k = ready.pop()
        order.append(k)
        for m in after[k]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    level = [0.0] * len(names)
    for k in reversed(order):
        level[k] = costs[k] + max((level[m] for m in after[k]), default=0.0)
    return level
