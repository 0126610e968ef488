"""What a task finds in its fresh folder before the %%ask: input files, and for analysis tasks a
simulation made once per benchmark run (so every analysis task reads the same trajectory and the
benchmark does not pay for the same MD again and again; the task's text says so)."""

from __future__ import annotations

import functools
import shutil
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# The shared villin run analysis tasks read: reproducible (one CPU thread, fixed seed), 4 ps after
# 1 ps of NVT, a frame every 0.2 ps (20 frames).
VILLIN_RUN = {
    "ps": 4.0,
    "solvent": "implicit",
    "nvt_ps": 1.0,
    "report_interval_ps": 0.2,
    "seed": 1,
    "reproducible": True,
    "platform": "CPU",
    "progress": False,
}

# Not a PDB at all past its first lines: columns shifted, coordinates that are not numbers.
BROKEN_PDB = """\
HEADER    NOT A REAL PROTEIN
ATOM      1  N   MET A   1      11.104  abc.def  -2.123  1.00  0.00           N
ATOM      2  CA  MET A   1   xx  12.560   6.222  -1.880  1.00  0.00           C
ATOM   this line is not a PDB record at all
END
"""


# Three short replicas of villin as kenkyu.tools.ensembles.run writes them (ensemble.json and one run
# folder per member, seeds 21-23): 0.6 ps after 0.2 ps of NVT, a frame every 0.1 ps (6 frames each).
VILLIN_REPLICAS = {
    "replicas": 3,
    "ps": 0.6,
    "solvent": "implicit",
    "seed": 21,
    "n_workers": 1,
    "md_options": {"nvt_ps": 0.2, "report_interval_ps": 0.1, "reproducible": True, "platform": "CPU"},
}

# The older of two villin runs (see _older_villin_run): the first frames of the shared run only.
OLDER_RUN_FRAMES = 8


def _one_build_at_a_time(build):
    """A shared fixture's builder, run by one task at a time: the next finds it made and reuses it."""

    @functools.wraps(build)
    def locked(self):
        with self._building:
            return build(self)

    return locked


class FixtureUnavailable(RuntimeError):
    """The task needs data this machine does not have (reported as SKIP, never as PASS)."""


class Fixtures:
    """Builds each fixture at most once per benchmark run, in ``cache``, and copies it into task folders."""

    # The fixtures made once and shared (the others are copied or written straight into a task's folder).
    SHARED = {
        "villin_run": "villin_run_dir",
        "older_villin_run": "villin_run_dir",
        "villin_replicas": "villin_replicas_dir",
        "literature_index": "literature_index_dir",
        "tiny_esm_models": "tiny_models_dir",
    }

    def __init__(self, cache: Path):
        # Absolute: the tasks' kernels run in their own folders, where a relative --cache (and the
        # KENKYU_MODELS under it) pointed nowhere and ESM requests met "model not found".
        self.cache = Path(cache).resolve()
        # Tasks run side by side (run_suite's workers) must not build the same fixture twice at once.
        self._building = threading.RLock()

    def build_shared(self, names) -> None:
        """Build the shared fixtures among ``names`` now, in this thread (before tasks run side by side).
        One that cannot be built is left to the tasks that need it, which report it as a SKIP."""
        for builder in sorted({self.SHARED[name] for name in names if name in self.SHARED}):
            try:
                getattr(self, builder)()
            except FixtureUnavailable:
                pass

    def prepare(self, names: list[str], folder: Path) -> dict[str, str]:
        """Put the named fixtures into ``folder``; returns environment variables the kernel needs."""
        env: dict[str, str] = {}
        for name in names:
            method = getattr(self, f"_{name}", None)
            if method is None:
                raise ValueError(f"unknown setup {name!r}; known: {', '.join(self.known())}")
            env.update(method(folder) or {})
        return env

    @classmethod
    def known(cls) -> list[str]:
        return sorted(
            n[1:]
            for n in dir(cls)
            if n.startswith("_")
            and not n.startswith("__")
            and callable(getattr(cls, n))
            and n not in ("_villin_source",)
        )

    # -- fixtures -------------------------------------------------------------------------------
    @staticmethod
    def _villin_source() -> Path:
        from kenkyu.tools.md import example_structure

        return example_structure("villin")

    def _villin_pdb(self, folder: Path):
        shutil.copy(self._villin_source(), folder / "villin.pdb")

    def _dhfr_pdb(self, folder: Path):
        from kenkyu.tools.md import example_structure

        shutil.copy(example_structure("dhfr"), folder / "dhfr.pdb")

    def _broken_pdb(self, folder: Path):
        (folder / "broken.pdb").write_text(BROKEN_PDB)

    def _villin_run(self, folder: Path):
        run_dir = self.villin_run_dir()
        shutil.copytree(run_dir, folder / "md_runs" / "villin")

    def _villin_replicas(self, folder: Path):
        """md_runs/villin_replicas: an ensemble of three short villin replicas (ensembles_run's layout)."""
        shutil.copytree(self.villin_replicas_dir(), folder / "md_runs" / "villin_replicas")

    def _older_villin_run(self, folder: Path):
        """md_runs/villin_seed2: an earlier, shorter villin run (8 frames, made a day before the shared run;
        its name sorts after ``villin``), so "my last run" has two candidates and only one is the latest."""
        import json
        import os

        import mdtraj

        source = self.villin_run_dir()
        target = folder / "md_runs" / "villin_seed2"
        shutil.copytree(source, target)
        traj = mdtraj.load(str(source / "trajectory.dcd"), top=str(source / "prepared.pdb"))
        traj[:OLDER_RUN_FRAMES].save_dcd(str(target / "trajectory.dcd"))
        info = json.loads((target / "run.json").read_text())
        info["created"], info["updated"] = "2026-01-01T09:00:00+00:00", "2026-01-01T09:05:00+00:00"
        info["parameters"]["seed"] = 2
        info["parameters"]["ps"] = OLDER_RUN_FRAMES * VILLIN_RUN["report_interval_ps"]
        (target / "run.json").write_text(json.dumps(info, indent=2) + "\n")
        day = 24 * 3600
        for path in [target, *target.rglob("*")]:
            stamp = path.stat().st_mtime - day
            os.utime(path, (stamp, stamp))

    def _literature_notes(self, folder: Path):
        shutil.copytree(self.literature_notes_dir(), folder / "papers")

    def _literature_index(self, folder: Path):
        index = self.literature_index_dir()
        shutil.copytree(index.parent / "papers", folder / "papers")
        shutil.copytree(index, folder / "literature_index")

    def _tiny_esm_models(self, folder: Path):
        return {"KENKYU_MODELS": str(self.tiny_models_dir())}

    # -- built once -----------------------------------------------------------------------------
    @_one_build_at_a_time
    def villin_run_dir(self) -> Path:
        """The shared 4 ps villin run (made on first use)."""
        from kenkyu.tools import md

        run_dir = self.cache / "md_runs" / "villin"
        if not (run_dir / "run.json").exists() or md.MDRun(run_dir).status != "finished":
            shutil.rmtree(run_dir, ignore_errors=True)
            md.run(str(self._villin_source()), out=run_dir, **VILLIN_RUN)
        return run_dir

    @_one_build_at_a_time
    def villin_replicas_dir(self) -> Path:
        """The three-replica villin ensemble (made on first use)."""
        from kenkyu.tools import ensembles

        out = self.cache / "md_runs" / "villin_replicas"
        done = out / ".complete"
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            ensemble = ensembles.run(str(self._villin_source()), out=str(out), **VILLIN_REPLICAS)
            if len(ensemble.finished) != VILLIN_REPLICAS["replicas"]:
                raise FixtureUnavailable(f"the villin replicas did not all finish: {ensemble.summary()}")
            done.write_text("three villin replicas for the agent benchmark\n")
        return out

    @staticmethod
    def literature_notes_dir() -> Path:
        """kenkyu's own demo corpus: reading notes on villin and a .bib of the cited papers."""
        from importlib.resources import files

        return Path(str(files("kenkyu.data") / "literature"))

    @_one_build_at_a_time
    def literature_index_dir(self) -> Path:
        """The demo corpus ingested once (MiniLM embeddings in a Chroma folder), for search and ask tasks."""
        from kenkyu.tools import literature

        root = self.cache / "literature"
        index = root / "literature_index"
        if not (root / ".complete").exists():
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(self.literature_notes_dir(), root / "papers")
            literature.ingest([str(root / "papers")], index=str(index), progress=False)
            (root / ".complete").write_text("the demo literature corpus, ingested\n")
        return index

    @_one_build_at_a_time
    def tiny_models_dir(self) -> Path:
        """Tiny random ESMFold and ESM-2 under the default names; their outputs are meaningless, the plumbing real."""
        from tests.tiny_esm import make_tiny_models

        root = self.cache / "models"
        if not (root / ".complete").exists():
            shutil.rmtree(root, ignore_errors=True)
            make_tiny_models(root)
            (root / ".complete").write_text("tiny random models for the agent benchmark\n")
        return root
