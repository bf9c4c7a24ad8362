"""Mutation testing of the modules whose mistakes a reader would not see (issue 26), and its report.

``make mutation`` runs ``python tools/mutation.py``: mutmut (configured in pyproject.toml's
``[tool.mutmut]``) mutates the files listed there, runs the mutants of the functions in ``SCOPE``
below against the fast tests that cover them, one worker at a time, and this script writes
``tests/mutation-report.md``: per module, killed / survived / timeout / other / total, and every
survivor, with the reason it is equivalent (``EQUIVALENT``) or marked NOT EXPLAINED. The exit
status is 1 when a survivor is not explained.

mutmut names a mutant after its module path, so it runs in ``_build/mutation``, where ``src``
links to ``code`` (``src/rlbook`` is imported as ``rlbook``) and ``tests``, ``chapters`` and
``pyproject.toml`` link to the repository's; mutmut copies them into ``_build/mutation/mutants``
and puts ``mutants/src`` first on ``sys.path`` itself (PYTHONPATH is cleared so that a
``code`` on it cannot shadow the mutants). Every run tests every mutant in ``SCOPE`` again;
``--only NAME...`` runs only the functions or mutants named (mutmut names, globs allowed) and
keeps the other results, ``--survivors`` only the mutants the last run left alive,
``--report-only`` rewrites the report from the last results, ``--fresh`` starts over.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "_build" / "mutation"
REPORT = ROOT / "tests" / "mutation-report.md"

#: The functions whose mutants are run, as mutmut's names (``rlbook.MODULE.x_FUNCTION`` and
#: ``rlbook.MODULE.xǁCLASSǁMETHOD``). Whole modules for targets, noise, buffer and the grading
#: core; for the agents, their losses, targets and the update that moves the target networks.
SCOPE = {
    "targets.py": ["rlbook.targets.*"],
    "noise.py": ["rlbook.noise.*"],
    "buffer.py": ["rlbook.buffer.*"],
    "agent.py": ["rlbook.agent.x_critic_loss", "rlbook.agent.x_gradient_step"],
    "ddpg.py": [
        "rlbook.ddpg.x_critic_target",
        "rlbook.ddpg.x_actor_loss",
        "rlbook.ddpg.xǁDDPGǁupdate",
    ],
    "td3.py": [
        "rlbook.td3.x_smoothed_target_action",
        "rlbook.td3.x_critic_target",
        "rlbook.td3.xǁTD3ǁupdate",
    ],
    "sac.py": [
        "rlbook.sac.x_critic_target",
        "rlbook.sac.x_actor_loss",
        "rlbook.sac.x_alpha_loss",
        "rlbook.sac.xǁSACǁtemperature_step",
        "rlbook.sac.xǁSACǁupdate",
    ],
    "pcl.py": [
        "rlbook.pcl.x_consistency_error",
        "rlbook.pcl.x_path_windows",
        "rlbook.pcl.xǁEpisodeReplayǁadd",
        "rlbook.pcl.xǁEpisodeReplayǁprobabilities",
        "rlbook.pcl.xǁEpisodeReplayǁsample",
        "rlbook.pcl.xǁ_PCLBaseǁ_paths",
        "rlbook.pcl.xǁ_PCLBaseǁupdate_on_episode",
        "rlbook.pcl.xǁPCLǁlog_pi",
        "rlbook.pcl.xǁPCLǁvalues",
        "rlbook.pcl.xǁPCLǁ_step",
        "rlbook.pcl.xǁUnifiedPCLǁ_v_logits",
        "rlbook.pcl.xǁUnifiedPCLǁlog_pi",
        "rlbook.pcl.xǁUnifiedPCLǁ_step",
    ],
    "dqn.py": [
        "rlbook.dqn.x_dqn_target",
        "rlbook.dqn.x_td_loss",
        "rlbook.dqn.xǁDQNǁepsilon",
        "rlbook.dqn.xǁDQNǁact",
        "rlbook.dqn.xǁDQNǁstore",
        "rlbook.dqn.xǁDQNǁupdate",
    ],
    "checks/grading.py": ["rlbook.checks.grading.*"],
}

#: Surviving mutants that no test can kill because they do not change what the function computes
#: (or change only what no caller can observe): (function, mutated line, why it is equivalent).
#: The mutated line is the mutant's changed line, stripped, as the report shows it.
EQUIVALENT: list[tuple[str, str, str]] = []

STATUS = {1: "killed", 3: "killed", 0: "survived", 36: "timeout", 24: "timeout", -24: "timeout"}
STATUS.update({152: "timeout", 255: "timeout", 33: "no tests", 5: "no tests", None: "not run"})


def patterns() -> list[str]:
    return [f"{p}__mutmut_*" for ps in SCOPE.values() for p in ps]


def in_scope(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns())


def prepare(fresh: bool) -> None:
    if fresh and WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True, exist_ok=True)
    for name, target in (
        ("src", "code"),
        ("tests", "tests"),
        ("chapters", "chapters"),
        ("pyproject.toml", "pyproject.toml"),
    ):
        link = WORK / name
        if not link.is_symlink():
            link.symlink_to(Path("..", "..", target))
    # mutmut copies tests/ and chapters/ once; refresh them so that new tests are seen
    for name in ("tests", "chapters"):
        copy = WORK / "mutants" / name
        if copy.exists():
            shutil.rmtree(copy)


def survivors() -> list[str]:
    """The mutants in scope that the last run did not kill (to test them again, after new tests)."""
    names = []
    for module in SCOPE:
        meta = WORK / "mutants" / "src" / "rlbook" / f"{module}.meta"
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if in_scope(name) and STATUS.get(code) not in ("killed", "timeout"):
                names.append(name)
    return names


def run(names: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", RLBOOK_PROGRESS="0")
    mutmut = Path(sys.executable).with_name("mutmut")
    start = time.perf_counter()
    log = WORK / "mutmut.log"
    with open(log, "w") as out:
        rc = subprocess.call(
            [str(mutmut), "run", "--max-children", "1", *names],
            cwd=WORK,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    elapsed = time.perf_counter() - start
    if rc != 0:
        sys.exit(f"mutmut exited with {rc}; see {log}")
    return elapsed


def mutated_lines(module_file: Path) -> dict[str, str]:
    """For each mutant in a mutated file, its changed line(s), from the orig and mutant copies."""
    tree = ast.parse(module_file.read_text())
    source = module_file.read_text().splitlines()
    funcs: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            body = source[node.lineno - 1 : node.end_lineno]  # with the signature's defaults
            funcs[node.name] = [line.replace(node.name, "F") for line in body]
    changed = {}
    for name, body in funcs.items():
        base, _, n = name.partition("__mutmut_")
        if n == "orig":
            continue
        orig = funcs.get(f"{base}__mutmut_orig", [])
        diff = list(difflib.unified_diff(orig, body, lineterm="", n=0))
        plus = [d[1:].strip() for d in diff if d.startswith("+") and not d.startswith("+++")]
        minus = [d[1:].strip() for d in diff if d.startswith("-") and not d.startswith("---")]
        changed[name] = " / ".join(plus) if plus else "removed: " + " / ".join(minus)
    return changed


def explain(function: str, line: str) -> str | None:
    for f, text, why in EQUIVALENT:
        if f == function and text == line:
            return why
    return None


def report(elapsed: float | None) -> int:
    rows, alive = [], []
    total = Counter()
    for module in SCOPE:
        path = WORK / "mutants" / "src" / "rlbook" / module
        data = json.loads(Path(f"{path}.meta").read_text())
        lines = mutated_lines(path)
        counts = Counter()
        for name, code in data["exit_code_by_key"].items():
            if not in_scope(name):
                continue
            status = STATUS.get(code, f"other ({code})")
            counts[status] += 1
            if status != "killed":
                key = name.rpartition(".")[2]
                function = name.partition("__mutmut_")[0]
                line = lines.get(key, "?")
                alive.append((module, name, status, line, explain(function, line)))
        n = sum(counts.values())
        other = n - counts["killed"] - counts["survived"] - counts["timeout"]
        score = (counts["killed"] + counts["timeout"]) / n if n else float("nan")
        rows.append(
            f"| {module} | {counts['killed']} | {counts['survived']} | {counts['timeout']} "
            f"| {other} | {n} | {score:.0%} |"
        )
        total.update(counts)
    n = sum(total.values())
    other = n - total["killed"] - total["survived"] - total["timeout"]
    rows.append(
        f"| **all** | {total['killed']} | {total['survived']} | {total['timeout']} | {other} "
        f"| {n} | {(total['killed'] + total['timeout']) / n:.0%} |"
    )
    unexplained = [s for s in alive if s[4] is None]
    scope = "\n".join(f"- `{m}`: " + ", ".join(f"`{p}`" for p in ps) for m, ps in SCOPE.items())
    text = [
        "# Mutation testing report",
        "",
        "Written by `make mutation` (`tools/mutation.py`; mutmut's settings and the tests it runs "
        "are in `pyproject.toml`, `[tool.mutmut]`). A mutant is *killed* when a test fails on it; "
        "a *timeout* (the tests ran past mutmut's limit, e.g. an endless loop) counts as killed in "
        "the score; *other* is a mutant no selected test reaches, or one not run.",
        "",
        "Functions mutated:",
        "",
        scope,
        "",
        "| module | killed | survived | timeout | other | total | score |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]
    if elapsed is not None:
        text += [f"Last run: {elapsed / 60:.1f} minutes of mutmut, one worker.", ""]
    text += ["## Survivors", ""]
    if not alive:
        text.append("None.")
    for _module, name, status, line, why in alive:
        text.append(f"- `{name}` ({status}): `{line}`: {why or '**NOT EXPLAINED**'}")
    REPORT.write_text("\n".join(text) + "\n")
    print("\n".join(rows))
    print(f"{len(alive)} survivors, {len(unexplained)} not explained; report: {REPORT}")
    return 1 if unexplained else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="forget the cached results")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the report")
    parser.add_argument("--only", nargs="+", default=[], help="mutmut names (globs) to run")
    parser.add_argument(
        "--survivors", action="store_true", help="run only the mutants the last run left alive"
    )
    args = parser.parse_args()
    elapsed = None
    if not args.report_only:
        names = patterns()
        if args.only:
            names = [f"{p}__mutmut_*" if "__mutmut_" not in p else p for p in args.only]
        elif args.survivors:
            names = survivors()
        prepare(args.fresh)
        elapsed = run(names)
        print(f"mutmut ran {elapsed / 60:.1f} minutes")
    sys.exit(report(elapsed))


if __name__ == "__main__":
    main()
