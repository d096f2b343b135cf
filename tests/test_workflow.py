"""The Snakemake workflow: scatter calls per patient, gather the rest (skipped without it)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import FIXTURES, REPO

from lesiontrack.cli import main


def test_snakemake_scatters_per_patient_and_gathers_the_same_results(tmp_path, capsys):
    snakemake = shutil.which("snakemake")
    if snakemake is None:
        pytest.skip("snakemake is not installed (pip install 'lesiontrack[workflow]')")
    out = tmp_path / "results"
    done = subprocess.run(
        [snakemake, "-s", str(REPO / "workflow" / "Snakefile"), "--cores", "2", "--quiet",
         "--directory", str(tmp_path),
         "--config", f"samplesheet={FIXTURES / 'samplesheet.tsv'}", f"outdir={out}",
         "stats_options=--permutations 2000"],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in (out / "calls").iterdir()) == [
        f"GIST0{i}.tsv" for i in range(1, 9)]
    assert main(["classify", str(FIXTURES / "samplesheet.tsv")]) == 0
    assert (out / "origins.tsv").read_text() == capsys.readouterr().out
    assert (out / "report" / "index.html").is_file()
    assert (out / "cohort.graphml").is_file() and (out / "stats.json").is_file()
