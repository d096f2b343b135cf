"""The package itself: public API, light import, typed docstrings."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import lesiontrack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_import_and_help_do_not_load_the_heavy_libraries():
    code = ("import sys, lesiontrack, lesiontrack.cli; lesiontrack.cli.build_parser(); "
            "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'lifelines') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_every_public_name_resolves_and_is_documented():
    for name in lesiontrack.__all__:
        value = getattr(lesiontrack, name)
        if callable(value):
            assert inspect.getdoc(value), f"{name} has no docstring"
    assert "classify" in dir(lesiontrack)


def test_public_functions_are_typed():
    for name in ("read_calls", "build_calls", "classify", "build_graph", "test_clustering",
                 "read_samplesheet", "read_calls_table", "annotate_calls", "lesion_states",
                 "clustering_test", "phylogeny", "read_patients", "survival", "write_report"):
        signature = inspect.signature(getattr(lesiontrack, name))
        assert signature.return_annotation is not inspect.Signature.empty, name


def test_every_demo_file_is_packaged():
    """The demo ships inside the package (`lesiontrack.demo` is fixtures/): every fixture file
    must match a package-data pattern, or the installed demo misses it (it once lost cnv/)."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["lesiontrack.demo"]
    fixtures = root / "fixtures"
    files = [p.relative_to(fixtures).as_posix() for p in fixtures.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert files and not missing, missing


def test_the_root_holds_the_steps_and_the_submodules_the_plumbing():
    """The root is the user's steps; batch plumbing is reached through its submodule."""
    for name in ("read_samplesheet", "read_calls", "annotate_calls", "lesion_states", "classify",
                 "build_graph", "clustering_test", "phylogeny", "read_patients", "survival",
                 "write_report"):
        assert name in lesiontrack.__all__, name
    for name in ("calls_table_batches", "clustering_from_tables", "lesion_table",
                 "patient_patterns", "permutation_test"):
        assert name not in lesiontrack.__all__, name
    assert lesiontrack.calls_tables.calls_table_batches is not None
    assert lesiontrack.stats.clustering_from_tables is not None
    try:
        lesiontrack.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown root attribute must raise AttributeError")


def test_clustering_test_takes_calls_origins_sheet_and_the_old_name_its_old_order():
    import lesiontrack as lt

    sheet = lt.read_samplesheet(FIXTURES / "samplesheet.tsv")
    calls = lt.read_calls(FIXTURES / "samplesheet.tsv")
    origins = lt.classify(calls, sheet)
    new = lt.clustering_test(calls, origins, sheet, permutations=200, seed=7)
    old = lt.test_clustering(origins, calls, samples=sheet, permutations=200, seed=7)
    assert new == old
    patients = lt.read_patients(FIXTURES / "patients.tsv")
    from lesiontrack.outcomes import analyse

    assert lt.survival(patients, new) == analyse(patients, new["patients"], "pattern")[0]
    assert lt.survival(patients, new["patients"], by="confined") == analyse(
        patients, new["patients"], "confined")[0]
