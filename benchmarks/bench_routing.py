"""How often the embedded model routes a request to the right tool with the right arguments.

Runs the prompt set below against kenkyu's real tool registry with the embedded SmolLM2-135M model
(offline) and prints, per routing mode:

- ``router``: the MiniLM router's best tool; the model fills the arguments under the narrowed schema
  (the default);
- ``model``: the model chooses among the router's top 3 and fills the arguments;
- ``embedding only``: the router's top-1 tool, no arguments (an upper bound on tool choice for ``router``).

Reference, measured in the same run: a uniform random choice of tool (the chance level), so the
printed ratio says how much better than chance each mode is.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

# (request, expected tool, arguments that must match)
PROMPTS = [
    (
        "Run a 2 ps simulation of villin.pdb in implicit solvent",
        "md_run",
        {"structure": "villin.pdb", "ps": 2, "solvent": "implicit"},
    ),
    (
        "Simulate protein.pdb for 50 ps in explicit water",
        "md_run",
        {"structure": "protein.pdb", "ps": 50, "solvent": "explicit"},
    ),
    ("Relax 1abc.cif in water for 100 ps with seed 7", "md_run", {"structure": "1abc.cif", "ps": 100, "seed": 7}),
    ("Do molecular dynamics of data/lysozyme.pdb for 20 ps", "md_run", {"structure": "data/lysozyme.pdb", "ps": 20}),
    (
        "Equilibrate and run model.pdb for 10 ps at 310 K",
        "md_run",
        {"structure": "model.pdb", "ps": 10, "temperature_k": 310},
    ),
    ("Compute the RMSD of md_runs/villin", "analysis_rmsd", {"trajectory": "md_runs/villin"}),
    (
        "How far does the backbone drift from the start in runs/a? Give the RMSD",
        "analysis_rmsd",
        {"trajectory": "runs/a"},
    ),
    (
        "Root mean square deviation over time for traj.dcd with topology top.pdb",
        "analysis_rmsd",
        {"trajectory": "traj.dcd", "topology": "top.pdb"},
    ),
    (
        "Which residues fluctuate most in md_runs/villin? RMSF per residue",
        "analysis_rmsf",
        {"trajectory": "md_runs/villin"},
    ),
    ("Per-residue flexibility (RMSF) of runs/b", "analysis_rmsf", {"trajectory": "runs/b"}),
    ("Show me which loops move in md_runs/x", "analysis_rmsf", {"trajectory": "md_runs/x"}),
    ("Radius of gyration of md_runs/villin over time", "analysis_radius_of_gyration", {"trajectory": "md_runs/villin"}),
    ("Is runs/c compacting? Compute Rg", "analysis_radius_of_gyration", {"trajectory": "runs/c"}),
    ("Secondary structure over time for md_runs/villin", "analysis_dssp", {"trajectory": "md_runs/villin"}),
    ("Run DSSP on runs/d to see helix content", "analysis_dssp", {"trajectory": "runs/d"}),
    ("Contact map of md_runs/villin", "analysis_contacts", {"trajectory": "md_runs/villin"}),
    ("Which residue pairs stay in contact in runs/e?", "analysis_contacts", {"trajectory": "runs/e"}),
    ("Find hydrogen bonds in md_runs/villin", "analysis_hydrogen_bonds", {"trajectory": "md_runs/villin"}),
    ("Which H-bonds persist in runs/f?", "analysis_hydrogen_bonds", {"trajectory": "runs/f"}),
    ("Solvent accessible surface area of md_runs/villin", "analysis_sasa", {"trajectory": "md_runs/villin"}),
    ("How exposed is each residue in runs/g? SASA please", "analysis_sasa", {"trajectory": "runs/g"}),
    ("Measure distances between atoms in md_runs/villin", "analysis_distances", {"trajectory": "md_runs/villin"}),
    ("Show the structure villin.pdb in 3D", "viz_show_structure", {"structure": "villin.pdb"}),
    ("Visualize protein.pdb coloured by B-factor", "viz_show_structure", {"structure": "protein.pdb"}),
    ("Play the trajectory of md_runs/villin as a movie", "viz_show_trajectory", {"trajectory": "md_runs/villin"}),
    ("Animate runs/h in the viewer", "viz_show_trajectory", {"trajectory": "runs/h"}),
    ("Run 4 replicas of villin.pdb for 5 ps each", "ensembles_run", {"structure": "villin.pdb"}),
    ("Launch an ensemble of simulations of protein.pdb on the cluster", "ensembles_run", {"structure": "protein.pdb"}),
    (
        "Mean and spread of RMSF across the ensemble ensembles/villin",
        "ensembles_rmsf",
        {"ensemble": "ensembles/villin"},
    ),
    ("Compare flexibility across replicas in ensembles/x", "ensembles_rmsf", {"ensemble": "ensembles/x"}),
]

# Written after the router's keywords were set and never tuned against: the honest number.
HELD_OUT = [
    ("Please simulate ubiquitin.pdb for 30 ps", "md_run", {"structure": "ubiquitin.pdb", "ps": 30}),
    (
        "Start an OpenMM run on hp35.pdb, 5 ps, implicit solvent",
        "md_run",
        {"structure": "hp35.pdb", "ps": 5, "solvent": "implicit"},
    ),
    ("I need 200 ps of dynamics for complex.cif", "md_run", {"structure": "complex.cif", "ps": 200}),
    ("Has md_runs/ub converged? Check the RMSD", "analysis_rmsd", {"trajectory": "md_runs/ub"}),
    ("Plot backbone deviation versus time for md_runs/ub", "analysis_rmsd", {"trajectory": "md_runs/ub"}),
    ("Which parts of the protein in md_runs/ub are most flexible?", "analysis_rmsf", {"trajectory": "md_runs/ub"}),
    ("Give me per-residue fluctuations for runs/z", "analysis_rmsf", {"trajectory": "runs/z"}),
    ("Did the protein in runs/z expand? radius of gyration", "analysis_radius_of_gyration", {"trajectory": "runs/z"}),
    ("Does the helix in md_runs/ub unravel? secondary structure please", "analysis_dssp", {"trajectory": "md_runs/ub"}),
    ("Native contact frequencies for runs/z", "analysis_contacts", {"trajectory": "runs/z"}),
    ("List the hydrogen bonds that form in runs/z", "analysis_hydrogen_bonds", {"trajectory": "runs/z"}),
    ("Surface area exposed to water in md_runs/ub", "analysis_sasa", {"trajectory": "md_runs/ub"}),
    ("Open a 3D view of ubiquitin.pdb", "viz_show_structure", {"structure": "ubiquitin.pdb"}),
    ("Animate md_runs/ub", "viz_show_trajectory", {"trajectory": "md_runs/ub"}),
    ("Run 8 independent replicas of hp35.pdb", "ensembles_run", {"structure": "hp35.pdb"}),
    ("RMSF averaged over the replicas in ensembles/hp35", "ensembles_rmsf", {"ensemble": "ensembles/hp35"}),
    (
        "Predict the structure of MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ",
        "structure_fold",
        {"sequences": "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"},
    ),
    ("Fold the sequences in designs.fasta", "structure_fold", {"sequences": "designs.fasta"}),
    ("ESM-2 embeddings for MKTAYIAKQRQISFVKSHFSRQ", "structure_embed", {"sequences": "MKTAYIAKQRQISFVKSHFSRQ"}),
    (
        "Predicted residue contacts for GSHMKTAYIAKQRQISFVKSHF",
        "structure_contact_map",
        {"sequence": "GSHMKTAYIAKQRQISFVKSHF"},
    ),
    (
        "Score the mutations A4G and K6E in MKTAYIAKQRQISFVK",
        "structure_variant_effects",
        {"sequence": "MKTAYIAKQRQISFVK", "mutations": ["A4G", "K6E"]},
    ),
    ("Full mutational scan of MKTAYIAKQRQISFVK", "structure_mutational_scan", {"sequence": "MKTAYIAKQRQISFVK"}),
    ("Which ESM models are installed?", "structure_list_models", {}),
]


def _matches(call, tool, expected_args) -> tuple[bool, bool]:
    if call is None or call.name != tool:
        return False, False
    args = call.arguments
    ok = all(_same(args.get(k), v) for k, v in expected_args.items())
    return True, ok


def _same(got, want) -> bool:
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return abs(got - want) < 1e-9
    return got == want


def main() -> int:
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.core.routing import ToolRouter
    from kenkyu.tools import TOOL_MODULES

    registry = ToolRegistry.from_modules(TOOL_MODULES)
    tools = list(registry)
    router = ToolRouter()
    router.rank("warm up", tools)
    print(f"{len(tools)} tools: {', '.join(registry.names())}")
    for title, prompt_set in (
        ("development set (the router's keywords were tuned on it)", PROMPTS),
        ("held-out set (never tuned on)", HELD_OUT),
    ):
        missing = {tool for _, tool, _ in prompt_set} - set(registry.names())
        prompts = [p for p in prompt_set if p[1] not in missing]
        if missing:
            print(f"note: {len(prompt_set) - len(prompts)} prompts skipped; tools not installed: {sorted(missing)}")
        print(f"\n== {title}: {len(prompts)} prompts")
        _evaluate(prompts, registry, tools, router)
    return 0


def _evaluate(prompts, registry, tools, router) -> None:
    from kenkyu.core.config import ProviderConfig
    from kenkyu.core.providers import MalformedReply
    from kenkyu.core.providers.local_llama import LocalLlamaProvider
    from kenkyu.core.registry import ToolArgumentError

    rng = random.Random(0)
    chance = statistics.mean(rng.choice(tools).name == tool for _, tool, _ in prompts for _ in range(200))

    started = time.perf_counter()
    embedding_hits = sum(router.rank(prompt, tools)[0].tool.name == tool for prompt, tool, _ in prompts)
    embedding_ms = (time.perf_counter() - started) * 1000 / len(prompts)

    results = {"embedding only": (embedding_hits, None, embedding_ms)}
    failures = []
    for mode in ("router", "model"):
        provider = LocalLlamaProvider(ProviderConfig(provider="local"), router=router, selection=mode)
        tool_hits = arg_hits = 0
        started = time.perf_counter()
        for prompt, tool, expected in prompts:
            try:
                call = provider.choose_call(prompt, tools)
            except MalformedReply:
                call = None
            if call is not None and call.name in registry:
                try:
                    registry[call.name].validate(call.arguments)
                except ToolArgumentError:
                    call = None
            right_tool, right_args = _matches(call, tool, expected)
            tool_hits += right_tool
            arg_hits += right_args
            if not right_args:
                failures.append((mode, prompt, tool, call and (call.name, call.arguments)))
        results[mode] = (tool_hits, arg_hits, (time.perf_counter() - started) * 1000 / len(prompts))

    n = len(prompts)
    print(f"\n{'mode':<16}{'right tool':>12}{'tool+args':>12}{'x chance':>10}{'ms/prompt':>11}")
    for mode, (tool_hits, arg_hits, ms) in results.items():
        args = f"{arg_hits / n:>12.0%}" if arg_hits is not None else f"{'-':>12}"
        print(f"{mode:<16}{tool_hits / n:>12.0%}{args}{(tool_hits / n) / chance:>10.1f}{ms:>11.0f}")
    print(f"{'chance (ref.)':<16}{chance:>12.0%}")
    if failures:
        print("\nmisses:")
        for mode, prompt, tool, got in failures:
            print(f"  [{mode}] {prompt!r}: wanted {tool}, got {got}")


if __name__ == "__main__":
    sys.exit(main())
