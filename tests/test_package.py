"""The package itself: public API, light import, typed docstrings."""

from __future__ import annotations

import inspect
import subprocess
import sys

import lesiontrack


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
                 "read_samplesheet", "read_calls_table"):
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
