"""Event-driven dataflow scheduler: dependency counters on top of a ThreadPoolExecutor.

Each run of a :class:`~kenkyu.kernels_md.taskgraph.TaskGraph` starts the root tasks; when a task
finishes it decrements the counters of its dependents and submits those that reach zero.  The
policy decides the order in which simultaneously ready tasks are handed to the pool:

* ``"fifo"``: graph order;
* ``"lpt"``: longest (estimated) processing time first, which keeps the heavy non-bonded tasks
  from landing at the tail of the step;
* ``"serial"``: run everything in the calling thread in a topological order (debugging, 1 core).

Each worker thread has a stable id in ``range(nthreads)`` that tasks use to pick their force buffer.
Per-kind wall time is accumulated in :attr:`DataflowScheduler.stats`.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

POLICIES = ("lpt", "fifo", "serial")


class DataflowScheduler:
    def __init__(self, nthreads: int = 1, policy: str = "lpt", profile: bool = True):
        if policy not in POLICIES:
            raise ValueError(f"unknown scheduling policy {policy!r}; choose one of {POLICIES}")
        self.nthreads = max(1, int(nthreads))
        self.policy = policy
        self.profile = profile
        self._pool = None
        self._local = threading.local()
        self._ids = itertools.count()
        self._id_lock = threading.Lock()
        self.stats = defaultdict(lambda: [0, 0.0])  # kind -> [count, seconds]
        self._stats_lock = threading.Lock()

    # worker ids -------------------------------------------------------------------------------
    def _worker_id(self) -> int:
        wid = getattr(self._local, "wid", None)
        if wid is None:
            with self._id_lock:
                wid = next(self._ids)
            self._local.wid = wid
        return wid

    @property
    def pool(self):
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.nthreads, thread_name_prefix="kenkyu-dataflow")
        return self._pool

    def shutdown(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
            self._ids = itertools.count()
            self._local = threading.local()

    def reset_stats(self):
        self.stats.clear()

    def _order(self, tasks):
        if self.policy == "lpt":
            return sorted(tasks, key=lambda t: -t.cost)
        return tasks

    # running ----------------------------------------------------------------------------------
    def _timed(self, task, wid):
        if self.profile:
            t0 = time.perf_counter()
            task.fn(wid)
            dt = time.perf_counter() - t0
            with self._stats_lock:
                st = self.stats[task.kind]
                st[0] += 1
                st[1] += dt
        else:
            task.fn(wid)

    def run(self, graph):
        if self.policy == "serial":
            return self._run_serial(graph)
        remaining = {t.name: len(t.deps) for t in graph.tasks}
        lock = threading.Lock()
        done = threading.Event()
        state = {"left": len(graph.tasks), "error": None}
        pool = self.pool

        def submit(tasks):
            for t in self._order(tasks):
                pool.submit(execute, t)

        def execute(task):
            try:
                if state["error"] is None:
                    self._timed(task, self._worker_id())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                state["error"] = exc
            ready = []
            with lock:
                for name in graph.dependents[task.name]:
                    remaining[name] -= 1
                    if remaining[name] == 0:
                        ready.append(graph.by_name[name])
                state["left"] -= 1
                finished = state["left"] == 0
            if ready:
                submit(ready)
            if finished:
                done.set()

        submit(graph.roots())
        done.wait()
        if state["error"] is not None:
            raise state["error"]

    def _run_serial(self, graph):
        remaining = {t.name: len(t.deps) for t in graph.tasks}
        ready = list(graph.roots())
        while ready:
            t = ready.pop(0)
            self._timed(t, 0)
            for name in graph.dependents[t.name]:
                remaining[name] -= 1
                if remaining[name] == 0:
                    ready.append(graph.by_name[name])

    def __getstate__(self):
        return {"nthreads": self.nthreads, "policy": self.policy, "profile": self.profile}

    def __setstate__(self, st):
        self.__init__(st["nthreads"], st["policy"], st["profile"])
