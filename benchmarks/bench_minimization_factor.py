"""How much longer a minimisation to convergence takes than the 200 iterations the cost calibration times.

md.run and md.minimize minimise until converged (10 kJ/mol/nm); the cost model (tools/md/cost.py) times only
CALIBRATION_MIN_ITERATIONS iterations and prices the rest with CONVERGED_MINIMIZATION_FACTOR. This prints, per
structure, the two timings on the same system and context (implicit solvent, CPU platform), their ratio, and the
ratio against the factor used, so the factor is a measurement and can be re-checked on another machine.

    python benchmarks/bench_minimization_factor.py               # villin and DHFR (about 5 min on 2 cores)
    python benchmarks/bench_minimization_factor.py --proteins villin
"""

from __future__ import annotations

import argparse
import os
import time


def timings(structure: str) -> tuple[int, float, float, int]:
    """Atoms, seconds for the calibration's iterations, seconds to convergence, evaluations reported on the way."""
    import openmm
    from kenkyu.tools.md import _prepare as prep
    from kenkyu.tools.md.cost import CALIBRATION_MIN_ITERATIONS
    from openmm import unit
    from openmm.app import Simulation

    fixer, _ = prep.fix_structure(
        structure, ph=7.0, keep_water=False, keep_heterogens=False, add_terminal_residues=False
    )
    ff_files = prep.force_field_files("implicit", "tip3p", None)
    forcefield, modeller = prep.build_model(
        fixer,
        solvent="implicit",
        solvate=True,
        ff_files=ff_files,
        water_model="tip3p",
        padding_nm=1.0,
        ionic_strength_molar=0.15,
    )
    system = prep.create_system(forcefield, modeller, solvent="implicit")

    class Counter(openmm.MinimizationReporter):
        reports = 0  # one per energy and force evaluation the minimiser reports

        def report(self, iteration, x, grad, args):
            Counter.reports += 1
            return False

    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.002 * unit.picoseconds)
    simulation = Simulation(modeller.topology, system, integrator, openmm.Platform.getPlatformByName("CPU"))
    simulation.context.setPositions(modeller.positions)
    started = time.perf_counter()
    simulation.minimizeEnergy(maxIterations=CALIBRATION_MIN_ITERATIONS)
    bounded = time.perf_counter() - started
    simulation.context.setPositions(modeller.positions)  # the same start, minimised to convergence
    started = time.perf_counter()
    simulation.minimizeEnergy(tolerance=10 * unit.kilojoule_per_mole / unit.nanometer, reporter=Counter())
    converged = time.perf_counter() - started
    return system.getNumParticles(), bounded, converged, Counter.reports


def main(argv=None) -> int:
    from kenkyu.tools import md
    from kenkyu.tools.md.cost import CALIBRATION_MIN_ITERATIONS, CONVERGED_MINIMIZATION_FACTOR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proteins", nargs="+", default=["villin", "dhfr"])
    args = parser.parse_args(argv)
    print(f"load {os.getloadavg()[0]:.2f}; factor used by the cost model: {CONVERGED_MINIMIZATION_FACTOR:g}")
    for protein in args.proteins:
        atoms, bounded, converged, reports = timings(str(md.example_structure(protein)))
        ratio = converged / bounded
        share = ratio / CONVERGED_MINIMIZATION_FACTOR
        print(
            f"{protein}: {atoms:,} atoms; {CALIBRATION_MIN_ITERATIONS} iterations {bounded:.1f} s, converged "
            f"{converged:.1f} s ({reports} evaluations): ratio {ratio:.2f}, {share:.2f} of the factor used"
        )
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
