"""The report streams the cohort in batches of patients: the same bytes for every cut of the
cohort, whatever the identifiers, statuses, shared files or sizes (edge cases of the batching
itself; the demo cohort through every input kind is in test_report.py)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES

import lesiontrack as lt
from lesiontrack import calls_tables as calls_module
from lesiontrack import graph as graph_module
from lesiontrack.batches import patient_batches
from lesiontrack.cli import commands as cli_commands
from lesiontrack.cli import main

SHEET = FIXTURES / "samplesheet.tsv"
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not SHEET.exists(), reason="demo fixtures not generated")


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "provenance.json"}


def demo_calls(capsys_or_none=None) -> pd.DataFrame:
    out = io.StringIO()
    sys_stdout, sys.stdout = sys.stdout, out
    try:
        assert main(["-q", "calls", str(SHEET)]) == 0
    finally:
        sys.stdout = sys_stdout
    return pd.read_csv(io.StringIO(out.getvalue()), sep="\t", dtype=str, keep_default_na=False)


def copies(calls: pd.DataFrame, source: str, names: list[str]) -> pd.DataFrame:
    """Rows of patient ``source`` under each of ``names`` (sample ids renamed too)."""
    rows = calls[calls["patient_id"] == source]
    parts = []
    for name in names:
        part = rows.copy()
        part["patient_id"] = name
        part["sample_id"] = part["sample_id"].str.replace(source, name, regex=False)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def report(table: Path, out: Path, *extra: str) -> dict[str, bytes]:
    assert main(["-q", "report", "--calls", str(table), "-o", str(out), "--permutations", "200",
                 *extra]) == 0
    return files_of(out)


def test_ids_that_sort_differently_names_and_many_runs(tmp_path, monkeypatch):
    """Plain order (batches) and natural order (pages) disagree on these ids; ids equal but for
    zeros tie in natural order; a recurrent mutation is named differently in two patients (the
    naturally first names it); many batches are merged a few graph runs at a time."""
    calls = demo_calls()
    names = ["P9", "P10", "P010", "P01", "P1", "p2", "Q"]
    table = copies(calls, "GIST02", names)
    table.loc[table["patient_id"] == "P10", "hgvsc"] = ""
    table.loc[table["patient_id"] == "P10", "hgvsp"] = ""
    table.to_csv(tmp_path / "calls.tsv", sep="\t", index=False)
    expected = report(tmp_path / "calls.tsv", tmp_path / "whole")
    monkeypatch.setattr(cli_commands, "BATCH_PATIENTS", 1)
    monkeypatch.setattr(graph_module.GraphmlSpool, "FAN_IN", 2)
    monkeypatch.setattr(calls_module, "TABLE_CHUNK_ROWS", 5)
    assert report(tmp_path / "calls.tsv", tmp_path / "batched") == expected
    page = expected["index.html"].decode()
    shown = [name for name in names if f'href="patients/{name}.html"' in page]
    order = sorted(shown, key=lambda n: page.index(f'href="patients/{n}.html"'))
    assert order == ["P01", "P1", "P9", "P010", "P10", "Q", "p2"]


def test_patient_order_does_not_depend_on_hash_seeds(tmp_path):
    calls = demo_calls()
    copies(calls, "GIST02", ["P01", "P1", "P001"]).to_csv(tmp_path / "calls.tsv", sep="\t",
                                                          index=False)
    pages = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "lesiontrack.cli", "-q", "report", "--calls",
                        str(tmp_path / "calls.tsv"), "-o", str(out), "--permutations", "100"],
                       check=True, env=env, cwd=ROOT)
        pages.append((out / "index.html").read_bytes())
    assert pages[0] == pages[1]


def test_empty_cohort_gets_headers_and_status_nodes(tmp_path):
    calls = demo_calls()
    calls.iloc[:0].to_csv(tmp_path / "calls.tsv", sep="\t", index=False)
    out = tmp_path / "report"
    report(tmp_path / "calls.tsv", out)
    assert (out / "calls.tsv").read_text().split("\t")[0] == "patient_id"
    assert (out / "origins.tsv").read_text().startswith("patient_id\t")
    graph = lt.graph_to_graphml  # the same writer for the whole graph
    whole = graph(lt.build_graph(lt.read_calls_table(tmp_path / "calls.tsv"),
                                 lt.classify(lt.read_calls_table(tmp_path / "calls.tsv"))))
    assert (out / "cohort.graphml").read_text() == whole
    assert whole.count('<node id="status:') == 4


def test_an_unknown_status_is_one_node(tmp_path, monkeypatch):
    calls = copies(demo_calls(), "GIST01", ["A", "B", "C"])
    calls.loc[calls["lesion_id"] == calls["lesion_id"].iloc[-1], "status"] = "SD?"
    calls.to_csv(tmp_path / "calls.tsv", sep="\t", index=False)
    expected = report(tmp_path / "calls.tsv", tmp_path / "whole")
    assert expected["cohort.graphml"].count(b'<node id="status:SD?"') == 1
    monkeypatch.setattr(cli_commands, "BATCH_PATIENTS", 1)
    assert report(tmp_path / "calls.tsv", tmp_path / "batched") == expected


def test_focal_max_zero_is_used_by_the_report(tmp_path):
    out = tmp_path / "report"
    assert main(["-q", "report", str(SHEET), "-o", str(out), "--permutations", "100",
                 "--focal-max", "0"]) == 0
    stats_out = io.StringIO()
    sys_stdout, sys.stdout = sys.stdout, stats_out
    try:
        assert main(["-q", "stats", str(SHEET), "--json", "--permutations", "100",
                     "--focal-max", "0"]) == 0
    finally:
        sys.stdout = sys_stdout
    import json

    expected = json.loads(stats_out.getvalue())["patients"]
    assert json.loads((out / "stats.json").read_text())["patients"] == expected
    assert {p["pattern"] for p in expected} <= {"generalized", "none"}


def test_write_report_parts_with_given_stats_and_one_part_per_patient(tmp_path):
    from lesiontrack.report import ReportPart, write_report, write_report_parts

    sheet = lt.read_samplesheet(SHEET)
    calls = lt.read_calls(SHEET)
    origins = lt.classify(calls, sheet)
    stats = lt.test_clustering(origins, calls, samples=sheet, permutations=100)
    write_report(tmp_path / "whole", sheet=sheet, calls=calls, origins=origins, stats=stats,
                 sheet_path=SHEET, options={})
    patients = sorted(set(sheet["patient_id"]))
    parts = [ReportPart(sheet[sheet["patient_id"] == p], calls[calls["patient_id"] == p],
                        origins[origins["patient_id"] == p]) for p in patients]
    write_report_parts(tmp_path / "parts", parts=parts, patients=patients, sheet=sheet,
                       sheet_path=SHEET, options={}, stats=stats)
    assert files_of(tmp_path / "parts") == files_of(tmp_path / "whole")


def _shared_file_cohort(folder: Path, second_assembly: str = "") -> Path:
    """Patients A and C share one two-sample VCF (no ##contig lines: the build comes from the
    sheet); B has its own file. Plain order A, B, C puts B between them."""
    head = ("##fileformat=VCFv4.2\n"
            '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTA\tTC\n")
    (folder / "shared.vcf").write_text(head + "chr4\t54733155\t.\tA\tT\t.\tPASS\t.\tAD\t100,30"
                                       "\t90,25\n")
    (folder / "b.vcf").write_text(head.replace("\tTA\tTC", "\tTB")
                                  + "chr4\t54733155\t.\tA\tT\t.\tPASS\t.\tAD\t100,30\n")
    sheet = folder / "sheet.tsv"
    sheet.write_text("patient_id\tlesion_id\tsample_id\tstatus\tcalls\tassembly\n"
                     "A\tL1\tTA\tPD\tshared.vcf\tGRCh38\n"
                     "B\tL1\tTB\tPD\tb.vcf\tGRCh38\n"
                     f"C\tL1\tTC\tSD\tshared.vcf\t{second_assembly or 'GRCh38'}\n")
    return sheet


def test_patients_sharing_a_file_are_never_in_two_batches(tmp_path, monkeypatch, capsys):
    assert patient_batches(lt.read_samplesheet(_shared_file_cohort(tmp_path)),
                                      1) == [["A", "B", "C"]]
    sheet = _shared_file_cohort(tmp_path)
    assert main(["-q", "report", str(sheet), "-o", str(tmp_path / "whole"),
                 "--permutations", "100"]) == 0
    monkeypatch.setattr(cli_commands, "BATCH_PATIENTS", 1)
    assert main(["-q", "report", str(sheet), "-o", str(tmp_path / "batched"),
                 "--permutations", "100"]) == 0
    assert files_of(tmp_path / "batched") == files_of(tmp_path / "whole")
    # the file's rows disagree on the build: seen even with one patient per batch
    bad = tmp_path / "bad"
    bad.mkdir()
    sheet = _shared_file_cohort(bad, second_assembly="GRCh37")
    capsys.readouterr()
    assert main(["-q", "report", str(sheet), "-o", str(bad / "out")]) == 2
    assert "two assemblies" in capsys.readouterr().err
    assert not (bad / "out").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_leaves_no_temporary_files(tmp_path):
    """A batch system's kill (SIGTERM) removes the spill folder and the half-built report."""
    calls = demo_calls()
    big = copies(calls, "GIST02", [f"P{i:04d}" for i in range(400)])
    big.to_csv(tmp_path / "calls.tsv", sep="\t", index=False)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "out" / "report"
    env = {**os.environ, "TMPDIR": str(scratch)}
    process = subprocess.Popen([sys.executable, "-m", "lesiontrack.cli", "-q", "report",
                                "--calls", str(tmp_path / "calls.tsv"), "-o", str(out),
                                "--permutations", "100"], env=env, cwd=ROOT,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any((tmp_path / "out").glob(".report.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the report is being built
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err.strip() == "lesiontrack: terminated"
    assert list(scratch.iterdir()) == []
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_forked_workers_keep_the_default_sigterm(tmp_path):
    """Worker pools stop their workers with SIGTERM: a worker must die at once, not wait to
    run the command's Python-level handler (a worker blocked in a C call never would, and the
    pool would wait for it for ever)."""
    from lesiontrack.cli import terminate

    previous = terminate.on_terminate()
    try:
        assert signal.getsignal(signal.SIGTERM) is terminate.terminated
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os._exit(0 if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    for jobs in ("2", "2"):  # the report's worker pool ends and the command returns
        process = subprocess.run([sys.executable, "-m", "lesiontrack.cli", "-q", "report",
                                  str(SHEET), "-o", str(tmp_path / f"r{jobs}"), "--force",
                                  "--jobs", jobs, "--permutations", "100"], cwd=ROOT,
                                 timeout=300, capture_output=True, text=True)
        assert process.returncode == 0, process.stderr
