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
* ``"locality"``: kinds in the order ``lpt`` would take them (by their longest remaining path), but
  inside a kind, tasks with a ``place`` go to the worker that owns that stretch of the space-filling
  curve and run in curve order (neighbouring tiles back to back: the coordinates they read stay in
  that core's cache, and fewer lines cross between cores); a worker with nothing of its own of the
  best kind takes the far end of another worker's list (the task its owner would reach last);
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
from bisect import bisect_left, insort
from collections import defaultdict

POLICIES = ("lpt", "locality", "fifo", "serial")


class _Compiled:
    """Integer form of a graph for the run loop."""

    def __init__(self, graph, policy, nthreads=1):
        self.graph = graph
        self.tasks = graph.tasks
        ids = {t.name: k for k, t in enumerate(graph.tasks)}
        self.ndeps = [len(t.deps) for t in graph.tasks]
        self.dependents = [[ids[d] for d in graph.dependents[t.name]] for t in graph.tasks]
        self.roots = [k for k, t in enumerate(graph.tasks) if not t.deps]
        self.home = [-1] * len(graph.tasks)
        if policy == "lpt":
            self.prio = [-lv for lv in graph.levels()]
        elif policy == "locality":
            levels = graph.levels()
            top = {}
            for t, lv in zip(graph.tasks, levels):
                top[t.kind] = max(top.get(t.kind, lv), lv)
            rank = {kind: r for r, kind in enumerate(sorted(top, key=lambda kd: -top[kd]))}
            self.prio = [(rank[t.kind], t.place if t.place is not None else -lv) for t, lv in zip(graph.tasks, levels)]
            self.home = [
                -1 if t.place is None else min(nthreads - 1, max(0, int(t.place * nthreads))) for t in graph.tasks
            ]
        else:
            self.prio = [0.0] * len(graph.tasks)


class _Heap:
    """Ready tasks in one priority queue (policies ``lpt`` and ``fifo``)."""

    def __init__(self, cg, fifo):
        self.prio = cg.prio
        self.fifo = fifo
        self.items = [(cg.prio[k], k) for k in cg.roots]
        heapq.heapify(self.items)
        self.seq = 0

    def __len__(self):
        return len(self.items)

    def push(self, k):
        self.seq += 1
        heapq.heappush(self.items, (self.seq if self.fifo else self.prio[k], k))

    def pop(self, wid):
        return heapq.heappop(self.items)[1]


class _Placed:
    """Ready tasks of policy ``locality``: one sorted list per worker (tasks placed in its stretch of
    the curve) and one shared list (tasks with no place)."""

    def __init__(self, cg, nthreads):
        self.prio = cg.prio
        self.home = cg.home
        self.lists = [[] for _ in range(nthreads)]
        self.shared = []
        self.n = 0
        for k in cg.roots:
            self.push(k)

    def __len__(self):
        return self.n

    def push(self, k):
        h = self.home[k]
        insort(self.shared if h < 0 else self.lists[h], (self.prio[k], k))
        self.n += 1

    def pop(self, wid):
        own, shared = self.lists[wid], self.shared
        src = own if own and (not shared or own[0] < shared[0]) else shared
        best = src[0][0][0] if src else None
        victim = None
        for w, other in enumerate(self.lists):  # another worker holds a task of a better kind
            if w != wid and other and (best is None or other[0][0][0] < best):
                victim, best = other, other[0][0][0]
        self.n -= 1
        if victim is not None:  # the far end of its best kind: the task its owner would reach last
            return victim.pop(bisect_left(victim, ((best + 1,),)) - 1)[1]
        return src.pop(0)[1]


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
        # One C-level lock guards the ready queue and the counters, and each worker sleeps on a lock
        # of its own that a waker releases: a finished task wakes only as many sleepers as it made
        # tasks ready (no notify_all, no Python-level Condition).  At 2 threads Condition's waits
        # and wake-ups cost about as much CPU as the step's smallest tasks.
        self._mutex = threading.Lock()
        self._park = [threading.Lock() for _ in range(self.nthreads)]
        for lock in self._park:
            lock.acquire()  # held: a worker that parks blocks until someone releases it
        self._sleeping = []  # ids of parked workers (under _mutex); each is released exactly once
        self._workers = []
        self._gen = 0
        self._job = None
        self._stop = False

    # compatibility -------------------------------------------------------------------------------
    @property
    def serial(self) -> bool:
        return self.nthreads == 1 or self.policy == "serial"

    def shutdown(self):
        with self._mutex:
            self._stop = True
            wake = list(self._sleeping)
            self._sleeping.clear()
        for w in wake:
            self._park[w].release()
        for w in self._workers:
            w.join()
        self._workers = []
        self._stop = False

    def reset_stats(self):
        self.stats.clear()

    def _prepare(self, graph):
        if self._compiled is None or self._compiled.graph is not graph:
            self._compiled = _Compiled(graph, self.policy, self.nthreads)
        return self._compiled

    def _ready(self, cg):
        return _Placed(cg, self.nthreads) if self.policy == "locality" else _Heap(cg, self.policy == "fifo")

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
        ready = self._ready(cg)
        job = {
            "cg": cg,
            "rem": list(cg.ndeps),
            "ready": ready,
            "left": len(cg.tasks),
            "error": None,
            "trace": [],
            "cpu": [],
            "blocked": 0,
            "t0": time.perf_counter(),
        }
        with self._mutex:
            self._job = job
            self._gen += 1
            # the caller takes a root itself: wake one worker fewer than there are roots
            wake = self._take_sleepers(len(ready) - 1)
        for w in wake:
            self._park[w].release()
        self._work(job, 0)
        with self._mutex:
            self._job = None
        self._finish(job)

    def _take_sleepers(self, count):
        """Under ``_mutex``: remove and return up to ``count`` parked workers to release."""
        if count <= 0 or not self._sleeping:
            return ()
        wake = self._sleeping[-count:]
        del self._sleeping[-count:]
        return wake

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
        park = self._park[wid]
        while True:
            with self._mutex:
                if self._stop:
                    return
                job = self._job if self._job is not None and self._gen != seen else None
                if job is None:
                    self._sleeping.append(wid)
                else:
                    seen = self._gen
            if job is None:
                park.acquire()  # released by run() (a new step) or shutdown()
            else:
                self._work(job, wid)

    def _work(self, job, wid):
        """Take ready tasks until the run is over.  Finishing a task, making its dependents ready
        and taking the next task is one pass under the lock."""
        cg = job["cg"]
        tasks = cg.tasks
        dependents = cg.dependents
        rem = job["rem"]
        ready = job["ready"]
        trace = job["trace"]
        cpu = job["cpu"]
        t0 = job["t0"]
        mutex = self._mutex
        sleeping = self._sleeping
        park = self._park[wid]
        pc = time.perf_counter
        tt = time.thread_time
        push, pop = ready.push, ready.pop
        k = -1  # the task this worker just finished (-1: none)
        a = b = c = 0.0  # its start, end and thread CPU
        while True:
            with mutex:
                if k >= 0:
                    trace.append((k, wid, a - t0, b - t0))
                    cpu.append(c)
                    for d in dependents[k]:
                        rem[d] -= 1
                        if rem[d] == 0:
                            push(d)
                    job["left"] -= 1
                if job["left"] == 0:
                    wake, sleeping[:] = list(sleeping), []
                    k = -1
                elif ready:
                    k = pop(wid)
                    wake = self._take_sleepers(len(ready)) if sleeping else ()
                else:
                    job["blocked"] += 1
                    sleeping.append(wid)
                    wake = ()
                    k = -2
            for w in wake:
                self._park[w].release()
            if k == -1:
                return
            if k == -2:
                park.acquire()  # released when a task becomes ready or the run is over
                k = -1
                continue
            a = pc()
            c = tt()
            try:
                if job["error"] is None:
                    tasks[k].fn(wid)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                job["error"] = exc
            c = tt() - c
            b = pc()

    def _run_serial(self, cg):
        tasks = cg.tasks
        rem = list(cg.ndeps)
        # one worker: every task is its own, in the order of the priorities (no stealing)
        ready = _Heap(cg, self.policy == "fifo")
        trace = []
        cpu = []
        t0 = time.perf_counter()
        job = {"cg": cg, "trace": trace, "cpu": cpu, "t0": t0, "error": None}
        pc = time.perf_counter
        tt = time.thread_time
        while ready:
            k = ready.pop(0)
            a = pc()
            c = tt()
            tasks[k].fn(0)
            cpu.append(tt() - c)
            trace.append((k, 0, a - t0, pc() - t0))
            for d in cg.dependents[k]:
                rem[d] -= 1
                if rem[d] == 0:
                    ready.push(d)
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
