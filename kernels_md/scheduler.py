"""Event-driven dataflow scheduler: dependency counters, a ready queue and persistent workers.

A run of a :class:`~kenkyu.kernels_md.taskgraph.TaskGraph` starts with its root tasks; when a task
finishes, the counters of its dependents drop and those that reach zero join the ready queue.
Nothing else orders tasks: there is no barrier between task kinds.  The calling thread is worker
0 and takes tasks like the others, so ``threads=1`` (or ``policy="serial"``) runs the graph in the
caller with no thread hand-off at all (a topological order, the same priorities).

The policy decides which of the ready tasks a free worker takes:

* ``"lpt"``: longest (estimated) remaining path first: a task's cost plus the longest chain of
  costs after it (its "bottom level"), so what unlocks the heavy non-bonded tasks runs first and
  the heavy tasks do not land at the tail of the step;
* ``"fifo"``: the order in which they became ready;
* ``"serial"``: everything in the calling thread (debugging).

Each worker has a stable id in ``range(nthreads)`` (tasks that need scratch space pick it by id).
Every run records, per task, the worker, start and end time (:attr:`DataflowScheduler.trace`), from
which the timeline, worker waits and the critical path of a step are drawn; per-kind wall time is
accumulated in :attr:`DataflowScheduler.stats`.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import defaultdict

POLICIES = ("lpt", "fifo", "serial")


class _Compiled:
    """Integer form of a graph for the run loop."""

    def __init__(self, graph, policy):
        self.graph = graph
        self.tasks = graph.tasks
        ids = {t.name: k for k, t in enumerate(graph.tasks)}
        self.ndeps = [len(t.deps) for t in graph.tasks]
        self.dependents = [[ids[d] for d in graph.dependents[t.name]] for t in graph.tasks]
        self.roots = [k for k, t in enumerate(graph.tasks) if not t.deps]
        self.prio = [-lv for lv in graph.levels()] if policy == "lpt" else [0.0] * len(graph.tasks)


class DataflowScheduler:
    def __init__(self, nthreads: int = 1, policy: str = "lpt", profile: bool = True):
        if policy not in POLICIES:
            raise ValueError(f"unknown scheduling policy {policy!r}; choose one of {POLICIES}")
        self.nthreads = max(1, int(nthreads))
        self.policy = policy
        self.profile = profile
        # kind -> [count, wall seconds, CPU seconds of the task's thread]: the CPU column tells task
        # inflation at more threads (cache, memory bandwidth) from preemption by other jobs
        self.stats = defaultdict(lambda: [0, 0.0, 0.0])
        self.trace = []  # last run: (task index, worker, t_start, t_end), times relative to the run start
        # last run, the same order as ``trace``: CPU seconds of each task's thread while it ran.  On a
        # shared machine wall times include the time a task was preempted; these do not.
        self.cpu = []
        self.blocked = 0
        self.t_run = 0.0  # last run's wall time
        self._compiled = None
        self._cond = threading.Condition()
        self._workers = []
        self._gen = 0
        self._job = None
        self._stop = False

    # compatibility -------------------------------------------------------------------------------
    @property
    def serial(self) -> bool:
        return self.nthreads == 1 or self.policy == "serial"

    def shutdown(self):
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        for w in self._workers:
            w.join()
        self._workers = []
        self._stop = False

    def reset_stats(self):
        self.stats.clear()

    def _prepare(self, graph):
        if self._compiled is None or self._compiled.graph is not graph:
            self._compiled = _Compiled(graph, self.policy)
        return self._compiled

    # running ----------------------------------------------------------------------------------
    def run(self, graph):
        cg = self._prepare(graph)
        if self.serial:
            return self._run_serial(cg)
        if len(self._workers) != self.nthreads - 1:
            for wid in range(1, self.nthreads):
                th = threading.Thread(target=self._worker_loop, args=(wid,), name=f"kenkyu-dataflow-{wid}", daemon=True)
                th.start()
                self._workers.append(th)
        job = {
            "cg": cg,
            "rem": list(cg.ndeps),
            "ready": [(cg.prio[k], k) for k in cg.roots],
            "left": len(cg.tasks),
            "error": None,
            "trace": [],
            "cpu": [],
            "blocked": 0,
            "seq": 0,
            "t0": time.perf_counter(),
        }
        heapq.heapify(job["ready"])
        with self._cond:
            self._job = job
            self._gen += 1
            self._cond.notify_all()
        self._work(job, 0)
        with self._cond:
            while job["left"] > 0:
                self._cond.wait()
            self._job = None
        self._finish(job)

    def _finish(self, job):
        self.t_run = time.perf_counter() - job["t0"]
        self.trace = job["trace"]
        self.cpu = job["cpu"]
        self.blocked = job.get("blocked", 0)  # times a worker found nothing ready mid-run and slept
        if self.profile:
            tasks = job["cg"].tasks
            for (k, _, a, b), c in zip(job["trace"], job["cpu"]):
                st = self.stats[tasks[k].kind]
                st[0] += 1
                st[1] += b - a
                st[2] += c
        if job["error"] is not None:
            raise job["error"]

    def _worker_loop(self, wid):
        seen = 0
        while True:
            with self._cond:
                while not self._stop and (self._job is None or self._gen == seen):
                    self._cond.wait()
                if self._stop:
                    return
                seen = self._gen
                job = self._job
            self._work(job, wid)

    def _work(self, job, wid):
        cg = job["cg"]
        tasks = cg.tasks
        cond = self._cond
        ready = job["ready"]
        trace = job["trace"]
        cpu = job["cpu"]
        t0 = job["t0"]
        tt = time.thread_time
        while True:
            with cond:
                while not ready and job["left"] > 0:
                    job["blocked"] += 1
                    cond.wait()
                if job["left"] == 0:
                    return
                _, k = heapq.heappop(ready)
            a = time.perf_counter()
            c = tt()
            try:
                if job["error"] is None:
                    tasks[k].fn(wid)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                job["error"] = exc
            c = tt() - c
            b = time.perf_counter()
            with cond:
                trace.append((k, wid, a - t0, b - t0))
                cpu.append(c)
                woke = False
                for d in cg.dependents[k]:
                    job["rem"][d] -= 1
                    if job["rem"][d] == 0:
                        job["seq"] += 1
                        heapq.heappush(ready, (cg.prio[d] if self.policy == "lpt" else job["seq"], d))
                        woke = True
                job["left"] -= 1
                if woke or job["left"] == 0:
                    cond.notify_all()

    def _run_serial(self, cg):
        tasks = cg.tasks
        rem = list(cg.ndeps)
        ready = [(cg.prio[k], k) for k in cg.roots]
        heapq.heapify(ready)
        trace = []
        cpu = []
        seq = 0
        t0 = time.perf_counter()
        job = {"cg": cg, "trace": trace, "cpu": cpu, "t0": t0, "error": None}
        pc = time.perf_counter
        tt = time.thread_time
        while ready:
            _, k = heapq.heappop(ready)
            a = pc()
            c = tt()
            tasks[k].fn(0)
            cpu.append(tt() - c)
            trace.append((k, 0, a - t0, pc() - t0))
            for d in cg.dependents[k]:
                rem[d] -= 1
                if rem[d] == 0:
                    seq += 1
                    heapq.heappush(ready, (cg.prio[d] if self.policy == "lpt" else seq, d))
        self._finish(job)

    # analysis of the last run -------------------------------------------------------------------
    def worker_waits(self):
        """Per worker: (busy seconds, idle seconds) during the last run."""
        busy = defaultdict(float)
        for _, w, a, b in self.trace:
            busy[w] += b - a
        return {
            w: (busy.get(w, 0.0), max(0.0, self.t_run - busy.get(w, 0.0)))
            for w in range(self.nthreads if not self.serial else 1)
        }

    def __getstate__(self):
        return {"nthreads": self.nthreads, "policy": self.policy, "profile": self.profile}

    def __setstate__(self, st):
        self.__init__(st["nthreads"], st["policy"], st["profile"])

    def __del__(self):
        try:
            self.shutdown()
        except Exception:  # noqa: BLE001
            pass
