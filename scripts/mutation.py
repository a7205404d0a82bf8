"""Mutation testing of vangnet's core domain modules with mutmut; prints the kill rate per module.

Run through ``scripts/mutation`` (which installs the ``mutation`` extra first):

    scripts/mutation                      # every module in MODULES, 2 mutmut workers
    scripts/mutation triage audit         # only modules whose path contains one of these words
    scripts/mutation --max-children 1 --show-survivors normalization

Each module runs in its own folder ``mutants/<module>/``, with the project's ``[tool.mutmut]``
settings and two of them replaced: ``only_mutate`` (that one module) and
``pytest_add_cli_args_test_selection`` (the test files that are meant to pin it, from
MODULES below). mutmut copies ``vangnet/`` there, mutates the module, collects which tests
reach which function, and runs each mutant against only those tests; a small selection per
module keeps it to minutes (every test that touches the database builds the test database
first). The folder is wiped before each run unless ``--keep`` is given. mutmut skips decorated
functions, so the module's copy there has its top-level ``@decorator`` lines rewritten as
``f = decorator(f)`` after the function (see ``_undecorate``), which means the same.

A mutant counts as killed when a test failed or timed out; survivors, mutants no test
reaches and anything else count against the module. The table ends with the line
``kill_rate_min=<percent>``. Not run in CI: it takes long; see docs/development.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).parent / "mutmut"

# module -> the tests that pin it (paths relative to the repository root)
MODULES: dict[str, list[str]] = {
    "vangnet/cases/triage.py": ["vangnet/cases/tests/test_triage.py"],
    "vangnet/intake/normalization.py": ["vangnet/intake/tests/test_normalization.py"],
    "vangnet/audit/services.py": ["vangnet/audit/tests"],
    "vangnet/audit/selectors.py": ["vangnet/audit/tests"],
    "vangnet/cases/services.py": ["vangnet/cases/tests/test_services.py", "vangnet/intake/tests/test_services.py",
                                  "vangnet/intake/tests/test_reporter_services.py"],
    "vangnet/cases/selectors.py": ["vangnet/cases/tests/test_selectors.py", "vangnet/cases/tests/test_triage.py"],
    "vangnet/intake/services.py": ["vangnet/intake/tests/test_services.py",
                                   "vangnet/intake/tests/test_reporter_services.py",
                                   "vangnet/intake/tests/test_followup_lockout.py",
                                   "vangnet/intake/tests/test_url_hash.py"],
    "vangnet/intake/selectors.py": ["vangnet/intake/tests/test_selectors.py",
                                    "vangnet/intake/tests/test_followup_lockout.py"],
    "vangnet/moderation/policy.py": ["vangnet/moderation/tests/test_policy.py"],
    "vangnet/moderation/queue.py": ["vangnet/moderation/tests/test_queue.py"],
    "vangnet/moderation/keys.py": ["vangnet/moderation/tests/test_keys.py"],
    "vangnet/moderation/sor.py": ["vangnet/moderation/tests/test_sor.py"],
    "vangnet/moderation/strikes.py": ["vangnet/moderation/tests/test_strikes.py",
                                      "vangnet/moderation/tests/test_appeals.py"],
    "vangnet/moderation/retention.py": ["vangnet/moderation/tests/test_retention.py"],
}

KILLED = {1, 3, 36, 24, -24, 152, 255}  # a test failed, or the mutant ran past its time limit
SURVIVED = {0}
NO_TESTS = {5, 33}


def _toml_value(value: object) -> str:
    return json.dumps(value)  # JSON strings, numbers, booleans and lists of them are valid TOML


def _write_pyproject(target: Path, module: str, tests: list[str]) -> None:
    """The project's pyproject.toml with a ``[tool.mutmut]`` section for one module."""
    text = (ROOT / "pyproject.toml").read_text()
    section = re.search(r"^\[tool\.mutmut\]\n(.*?)(?=^\[|\Z)", text, flags=re.M | re.S)
    settings: dict[str, object] = {}
    if section:
        import tomllib

        settings = tomllib.loads("[tool.mutmut]\n" + section.group(1))["tool"]["mutmut"]
        text = text[:section.start()] + text[section.end():]
    settings.update(only_mutate=[module], pytest_add_cli_args_test_selection=tests, use_git_change_detection=False)
    lines = ["", "[tool.mutmut]"] + [f"{key} = {_toml_value(value)}" for key, value in settings.items()]
    target.write_text(text.rstrip() + "\n" + "\n".join(lines) + "\n")


def _undecorate(source: str) -> str:
    """Rewrite ``@transaction.atomic def f(...)`` as ``def f(...)`` followed by ``f = transaction.atomic(f)``.

    mutmut leaves decorated functions alone (mutating them could break the decorator), which
    would leave every ``@transaction.atomic`` service unmutated and the kill rate flattering.
    The rewrite means the same; only top-level functions with plain decorators (no arguments)
    are rewritten.
    """
    lines = source.splitlines(keepends=True)
    functions = [node for node in ast.parse(source).body
                 if isinstance(node, ast.FunctionDef) and node.decorator_list
                 and all(isinstance(d, ast.Name | ast.Attribute) for d in node.decorator_list)]
    for node in reversed(functions):
        wrapped = node.name
        for decorator in reversed(node.decorator_list):
            wrapped = f"{ast.unparse(decorator)}({wrapped})"
        end = node.end_lineno or node.lineno
        lines[end:end] = [f"{node.name} = {wrapped}\n"]
        first = node.decorator_list[0].lineno - 1
        del lines[first:node.lineno - 1]
    return "".join(lines)


def _prepare(rundir: Path, module: str, tests: list[str], *, keep: bool) -> None:
    if rundir.exists() and not keep:
        shutil.rmtree(rundir)
    rundir.mkdir(parents=True, exist_ok=True)
    if not (rundir / "vangnet").exists():
        shutil.copytree(ROOT / "vangnet", rundir / "vangnet", ignore=shutil.ignore_patterns("__pycache__"))
        target = rundir / module
        target.write_text(_undecorate(target.read_text()))
    if not (rundir / "conftest.py").is_symlink():
        (rundir / "conftest.py").symlink_to(ROOT / "conftest.py")
    _write_pyproject(rundir / "pyproject.toml", module, tests)


def _results(rundir: Path, module: str) -> dict[str, int | None]:
    meta = rundir / "mutants" / (module + ".meta")
    if not meta.exists():
        return {}
    return json.loads(meta.read_text())["exit_code_by_key"]


def _run_module(module: str, tests: list[str], *, max_children: int, keep: bool, show: bool) -> tuple[int, int, bool]:
    slug = module.removeprefix("vangnet/").removesuffix(".py").replace("/", ".")
    rundir = ROOT / "mutants" / slug
    _prepare(rundir, module, tests, keep=keep)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "vangnet.config.test"}
    log = rundir / "mutmut.log"
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run([str(MUTMUT), "run", "--max-children", str(max_children)], cwd=rundir, env=env,
                              stdout=out, stderr=subprocess.STDOUT, check=False)
    results = _results(rundir, module)
    counts = Counter(results.values())
    killed = sum(n for code, n in counts.items() if code in KILLED)
    survivors = sorted(name for name, code in results.items() if code not in KILLED)
    ok = done.returncode == 0 and bool(results) and None not in counts
    print(f"{module}: {killed}/{len(results)} killed, {counts.get(0, 0)} survived, "
          f"{sum(counts.get(c, 0) for c in NO_TESTS)} without tests "
          f"({time.monotonic() - started:.0f} s; log: {log.relative_to(ROOT)})", file=sys.stderr, flush=True)
    if not ok:
        print(f"  mutmut did not finish (exit status {done.returncode}); see the log.", file=sys.stderr)
    if show and survivors:
        for name in survivors:
            diff = subprocess.run([str(MUTMUT), "show", name], cwd=rundir, env=env, capture_output=True, text=True)
            print(diff.stdout.rstrip(), file=sys.stderr)
    elif survivors:
        print("  not killed: " + " ".join(name.rsplit(".", 1)[-1] for name in survivors), file=sys.stderr)
    return killed, len(results), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="run only modules whose path contains one of these words")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutmut workers (default 2)")
    parser.add_argument("--keep", action="store_true", help="reuse the previous run's mutants/ (only new mutants run)")
    parser.add_argument("--show-survivors", action="store_true", help="print the diff of every mutant not killed")
    parser.add_argument("--fail-under", type=float, default=0.0, help="exit 1 when a module's kill rate is lower")
    args = parser.parse_args()

    selected = {m: t for m, t in MODULES.items() if not args.modules or any(w in m for w in args.modules)}
    if not selected:
        parser.error(f"no module matches {args.modules}; modules: {', '.join(MODULES)}")
    rows = []
    all_ok = True
    for module, tests in selected.items():
        killed, total, ok = _run_module(module, tests, max_children=args.max_children, keep=args.keep,
                                        show=args.show_survivors)
        rows.append((module, killed, total))
        all_ok = all_ok and ok

    width = max(len(m) for m in selected)
    print(f"{'module':<{width}}  {'killed/total':>12}  {'rate':>6}")
    rates = []
    for module, killed, total in rows:
        rate = 100.0 * killed / total if total else 0.0
        rates.append(rate)
        print(f"{module:<{width}}  {f'{killed}/{total}':>12}  {rate:5.1f}%")
    all_killed, all_total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"{'all':<{width}}  {f'{all_killed}/{all_total}':>12}  {100.0 * all_killed / max(all_total, 1):5.1f}%")
    print(f"kill_rate_min={min(rates):.1f}")
    return 0 if all_ok and min(rates) >= args.fail_under else 1


if __name__ == "__main__":
    sys.exit(main())
