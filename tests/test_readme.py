"""The README's code blocks work as written: Python blocks and `lesiontrack` lines run on the
demo fixtures, the local Snakemake line dry-runs, the cluster examples parse, and the API calls
named in the text match the real signatures."""

from __future__ import annotations

import importlib
import inspect
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO

from lesiontrack.samplesheet import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = [(m.group(1).strip(), m.group(2)) for m in
          re.finditer(r"^```([^\n]*)\n(.*?)^```", README, flags=re.S | re.M)]
#: README names that stand for the user's own data, and what they are in the demo fixtures.
DEMO_NAMES = {"P01": "GIST01"}


def commands(block: str) -> list[str]:
    """A shell block's commands: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    out = []
    for line in joined.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def shell_blocks() -> list[str]:
    return [c for lang, body in BLOCKS if lang in ("bash", "sh", "shell", "console")
            for c in commands(body)]


def lesiontrack_lines() -> list[str]:
    """Every `lesiontrack ...` command of the shell blocks (the last step of a `&&` chain)."""
    lines = []
    for command in shell_blocks():
        step = command.split("&&")[-1].strip()
        if step.startswith("lesiontrack "):
            lines.append(step)
    return lines


def snakemake_lines() -> list[str]:
    return [c for c in shell_blocks() if c.startswith("snakemake ")]


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A copy of the demo cohort as the current folder (its sheet is ``samplesheet.tsv``)."""
    work = tmp_path / "work"
    shutil.copytree(FIXTURES, work)
    monkeypatch.chdir(work)
    return work


def test_the_readme_has_the_blocks_this_test_checks():
    langs = [lang for lang, _ in BLOCKS]
    assert langs.count("python") >= 1 and langs.count("bash") >= 3
    assert len(lesiontrack_lines()) >= 4
    assert len(snakemake_lines()) >= 2


@pytest.mark.parametrize("number", range(sum(lang == "python" for lang, _ in BLOCKS)))
def test_python_blocks_run_on_the_demo_cohort(workdir, number):
    code = [body for lang, body in BLOCKS if lang == "python"][number]
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(code, f"README.md python block {number + 1}", "exec"), namespace)
    assert "lt" in namespace
    if "graph" in namespace:
        assert (workdir / "cohort.graphml").is_file()


def test_lesiontrack_lines_run_on_the_demo_cohort(workdir):
    (workdir / "calls").mkdir()  # scattered outputs' folder (the workflow makes it)
    for line in lesiontrack_lines():
        for name, demo in DEMO_NAMES.items():
            line = re.sub(rf"\b{name}\b", demo, line)
        argv = line.replace("lesiontrack ", f"{shlex.quote(sys.executable)} -m lesiontrack.cli ",
                            1)
        done = subprocess.run(["bash", "-c", argv], cwd=workdir, capture_output=True,
                              text=True, check=False, timeout=600)
        assert done.returncode == 0, f"{line}: {done.stderr[-2000:]}"
    assert (workdir / "demo-report" / "index.html").is_file()
    assert (workdir / "report" / "index.html").is_file()
    assert (workdir / "origins.tsv").is_file()


def _local_and_cluster() -> tuple[list[str], list[str]]:
    local = [c for c in snakemake_lines() if "--profile" not in c and "--executor" not in c]
    cluster = [c for c in snakemake_lines() if c not in local]
    return local, cluster


def test_the_local_snakemake_line_dry_runs(tmp_path):
    snakemake = shutil.which("snakemake")
    local, _ = _local_and_cluster()
    assert len(local) == 1
    if snakemake is None:
        pytest.skip("snakemake is not installed (pip install 'lesiontrack[workflow]')")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(FIXTURES, work / "fixtures")
    (work / "workflow").symlink_to(REPO / "workflow", target_is_directory=True)
    argv = shlex.split(local[0]) + ["-n"]
    done = subprocess.run([snakemake, *argv[1:]], cwd=work, capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_cluster_examples_parse_and_name_what_exists():
    _, cluster = _local_and_cluster()
    assert cluster, "the README shows a cluster example"
    for command in cluster:
        argv = shlex.split(command)
        assert argv[0] == "snakemake"
        assert (REPO / argv[argv.index("-s") + 1]).is_file()
        if "--profile" in argv:
            profile = REPO / argv[argv.index("--profile") + 1]
            assert (profile / "config.yaml").is_file(), profile
        config = argv[argv.index("--config") + 1:]
        keys = {item.split("=", 1)[0] for item in config if "=" in item}
        assert {"samplesheet", "outdir"} <= keys
    # the other executors are named in the text as Snakemake options
    assert re.search(r"`--executor \w+`", README)


def test_the_sample_sheet_example_uses_real_columns():
    sheets = [body for lang, body in BLOCKS if not lang and body.startswith("patient_id")]
    assert sheets
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for body in sheets:
        header = body.split("\n", 1)[0].split()
        assert set(REQUIRED_COLUMNS) <= set(header)
        assert set(header) <= known, set(header) - known


def _resolve(path: str):
    """``lt.x`` / ``lesiontrack.report.y`` -> the object."""
    parts = path.split(".")
    if parts[0] == "lt":
        parts[0] = "lesiontrack"
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise AssertionError(f"cannot import {path}")


def _api_calls() -> list[tuple[str, list[str]]]:
    """Every ``lt.f(a, b=...)`` / ``lesiontrack.x.f(...)`` / ``ReportPart(...)`` in the
    README's text (the code blocks run instead)."""
    prose = re.sub(r"^```.*?^```", "", README, flags=re.S | re.M)
    found = []
    for match in re.finditer(r"\b((?:lt|lesiontrack)(?:\.\w+)+|ReportPart)\(([^()`]*)\)",
                             prose):
        name = match.group(1)
        if name == "ReportPart":
            name = "lesiontrack.report.ReportPart"
        args = [a.strip() for a in match.group(2).split(",") if a.strip()]
        found.append((name, args))
    return found


def test_api_calls_in_the_readme_match_the_signatures():
    calls = _api_calls()
    assert any(name.endswith("clustering_from_tables") for name, _ in calls)
    for name, args in calls:
        target = _resolve(name)
        if not callable(target):
            continue
        parameters = list(inspect.signature(target).parameters.values())
        names = {p.name for p in parameters}
        positional = [p.name for p in parameters
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        for index, arg in enumerate(args):
            if arg == "...":
                continue
            keyword = re.match(r"(\w+)\s*=", arg)
            if keyword:
                assert keyword.group(1) in names, f"{name}: no parameter {keyword.group(1)!r}"
            elif re.fullmatch(r"[a-z_]\w*", arg) and index < len(positional):
                # a placeholder argument is named after the parameter it fills
                assert arg == positional[index], (
                    f"{name}: argument {index + 1} is {arg!r}, the parameter is "
                    f"{positional[index]!r}")
