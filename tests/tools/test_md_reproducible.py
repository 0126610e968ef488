"""A reproducible run gives the same numbers twice: what an exported report relies on."""

import numpy as np

import kenkyu.tools.analysis as analysis
import kenkyu.tools.md as md


def test_reproducible_runs_with_the_same_seed_are_identical(tmp_path):
    runs = [
        md.run(
            md.example_structure("villin"),
            ps=0.4,
            out=tmp_path / f"run{i}",
            solvent="implicit",
            seed=11,
            nvt_ps=0.2,
            report_interval_ps=0.1,
            reproducible=True,
            progress=False,
        )
        for i in range(2)
    ]
    first, second = (r.trajectory() for r in runs)
    assert first.n_frames == second.n_frames == 4
    assert np.array_equal(first.xyz, second.xyz)
    assert runs[0].info["platform"]["name"] == "CPU" and runs[0].info["platform"]["properties"]["Threads"] == "1"
    rg = [analysis.radius_of_gyration(r).rg_nm.to_numpy() for r in runs]
    assert np.array_equal(rg[0], rg[1])
