"""Text meant for people: no Python reprs, progress only on a terminal, one closing line."""

from __future__ import annotations

import html
import io
import re
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from lesiontrack.cli import main
from lesiontrack.text import (
    clustering_lines,
    format_ci,
    format_p,
    format_ratio,
    p_phrase,
    stats_text,
)

SHEET = FIXTURES / "samplesheet.tsv"
PATIENTS = FIXTURES / "patients.tsv"
#: What must never reach a person: a Python None, a NaN, a bare inf, a float printed whole.
REPRS = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\binf\b|\d\.\d{6,}")
#: Python booleans and list reprs: never in pages or text (TSV columns such as ``counted`` are
#: data for pipelines and may say True/False).
PYTHON_VALUES = re.compile(r"\bFalse\b|\bTrue\b|\['")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def visible_text(page: str) -> str:
    """The text of an HTML page a reader sees (tags, styles and scripts removed)."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<svg\b.*?</svg>", " ", page, flags=re.S)  # figures: numbers are coordinates
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def assert_readable(text: str, where: str) -> None:
    found = REPRS.search(text)
    assert found is None, f"{where}: {found.group(0)!r} in ...{text[max(0, found.start() - 80):found.end() + 40]}..."


# ------------------------------------------------------------------ the formatting helpers

def test_p_values_for_people():
    assert format_p(0.010489510489510492) == "0.010"
    assert format_p(0.0431) == "0.043"
    assert format_p(0.001) == "0.0010"  # the floor itself is shown
    assert format_p(0.000999) == "< 0.001"
    assert format_p(None) == format_p(float("nan")) == "undefined"
    assert p_phrase(0.00001) == "p < 0.001" and p_phrase(0.5) == "p = 0.50"
    assert p_phrase(None) == "p undefined"


def test_ratios_and_intervals_for_people():
    assert format_ratio(1.4251092248535797) == "1.43"
    assert format_ratio("inf") == format_ratio(float("inf")) == "infinite"
    assert format_ratio(None) == "undefined"
    assert format_ratio(0.001) == "< 0.01"
    assert format_ratio(12345.678) == "12,345.68"
    assert format_ci(1.4251092248535797, "inf") == "95% CI 1.43 to infinite"
    assert format_ci(None, None) == ""


def test_an_undefined_test_says_why():
    result = {
        "lesion_table": {"progressive_with_secondary": 0, "progressive_without": 2,
                         "controlled_with_secondary": 0, "controlled_without": 0},
        "fisher": {"odds_ratio": None, "p_value": None, "ci_low": None, "ci_high": None,
                   "note": "undefined: a row or column of the table is empty"},
        "permutation": {"observed": 0, "expected": 0.0, "n_permutations": 100, "seed": 1,
                        "p_value": 1.0, "exact_p_value": 1.0, "informative_patients": 0},
        "mantel_haenszel": {"odds_ratio": None, "p_value": None, "ci_low": None,
                            "ci_high": None, "n_strata": 0,
                            "note": "undefined: no patient has both statuses"},
        "patients": [], "n_patients": 1, "n_lesions_tested": 2,
    }
    lines = clustering_lines(result)
    # the headline first (the within-patient test), then Mantel-Haenszel, then pooled Fisher
    assert lines[0].startswith("Within-patient permutation test")
    assert "undefined (no patient has both statuses)" in lines[1]
    assert "undefined (a row or column of the table is empty)" in lines[2]
    assert "descriptive" in lines[2]
    assert_readable(stats_text(result), "stats text")


# ------------------------------------------------------------------ every command's text

@pytest.fixture(scope="module")
def degenerate(tmp_path_factory) -> Path:
    """One patient, two progressive lesions sharing one mutation: no controlled lesion and no
    secondary mutation, so every test is undefined."""
    folder = tmp_path_factory.mktemp("degenerate")
    for lesion in ("L1", "L2"):
        (folder / f"{lesion}.tsv").write_text(
            "chrom\tpos\tref\talt\talt_count\tdepth\n"
            "chr4\t54727435\tAGTGGA\tA\t60\t150\n", encoding="utf-8")
    (folder / "sheet.tsv").write_text(
        "patient_id\tlesion_id\tsample_id\tstatus\tcalls\tassembly\n"
        "P1\tL1\tP1_L1\tPD\tL1.tsv\tGRCh38\n"
        "P1\tL2\tP1_L2\tPD\tL2.tsv\tGRCh38\n", encoding="utf-8")
    (folder / "patients.tsv").write_text(
        "patient_id\tpfs_months\tpfs_event\tos_months\tos_event\n"
        "P1\t5.5\t1\t12.25\t0\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("cohort", ["demo", "degenerate"])
def test_no_python_reprs_in_any_text_for_people(capsys, tmp_path, degenerate, cohort):
    sheet, patients = ((SHEET, PATIENTS) if cohort == "demo"
                       else (degenerate / "sheet.tsv", degenerate / "patients.tsv"))
    texts: dict[str, str] = {}
    for name, argv in {
        "stats": ["stats", sheet],
        "stats -o": ["stats", sheet, "-o", tmp_path / "stats.txt"],
        "outcomes": ["outcomes", sheet, "--patients", patients, "-o", tmp_path / "outcomes"],
        "calls": ["calls", sheet, "-o", tmp_path / "calls.tsv"],
        "classify": ["classify", sheet, "-o", tmp_path / "origins.tsv"],
        "graph": ["graph", sheet, "-o", tmp_path / "cohort.graphml"],
        "report": ["report", sheet, "--patients", patients, "-o", tmp_path / "report",
                   "--permutations", "200"],
    }.items():
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        texts[f"{name} stdout"] = out if name in ("stats", "outcomes") else ""
        texts[f"{name} stderr"] = err
    texts["stats file"] = (tmp_path / "stats.txt").read_text(encoding="utf-8")
    if cohort == "demo":
        code, out, err = run(capsys, "demo", "-o", tmp_path / "demo")
        texts["demo"] = out + err
    for page in sorted((tmp_path / "report").rglob("*.html")):
        texts[str(page.relative_to(tmp_path))] = visible_text(page.read_text(encoding="utf-8"))
    origins = (tmp_path / "origins.tsv").read_text(encoding="utf-8")
    texts["evidence column"] = origins  # evidence is prose inside the table
    for where, text in texts.items():
        assert_readable(text, f"{cohort}: {where}")
        if where != "evidence column":
            found = PYTHON_VALUES.search(text)
            assert found is None, f"{cohort}: {where}: {found.group(0)!r} in ...{text[max(0, found.start() - 80):found.end() + 40]}"
    if cohort == "degenerate":
        assert "Fisher exact test" in texts["stats stdout"]
        assert "undefined (a row or column of the table is empty)" in texts["stats stdout"]
        assert "Mantel-Haenszel odds ratio across patients: undefined (" in texts["stats stdout"]
        assert "log-rank test: undefined" in texts["outcomes stdout"]


def test_stats_text_of_the_demo_reads_like_the_report(capsys):
    _, out, _ = run(capsys, "stats", SHEET)
    # issue 17's GIST08 adds a progressive lesion with V654A and a controlled one without
    assert ("odds ratio infinite (conditional maximum likelihood odds ratio), 95% CI 2.18 to "
            "infinite, p = 0.0031.") in out
    assert "(10,000 permutations;" in out


# ------------------------------------------------------------------ closing line and progress

@pytest.mark.parametrize("command, extra, said", [
    ("calls", ["-o", "@calls.tsv"], r"wrote 51 rows \(calls\) to .*calls\.tsv"),
    ("classify", ["-o", "@origins.tsv"],
     r"wrote \d+ rows \(origins of mutations\) to .*origins\.tsv"),
    ("graph", ["-o", "@g.graphml"],
     r"wrote the cohort graph \(\d+ nodes, \d+ edges\) to .*g\.graphml"),
    ("stats", ["-o", "@stats.txt"], r"wrote the statistics \(text\) to .*stats\.txt"),
    ("outcomes", ["--patients", PATIENTS, "-o", "@out"],
     r"wrote outcomes\.json, outcomes\.tsv, km_pfs\.svg, km_os\.svg into .*out"),
    ("report", ["-o", "@rep", "--permutations", "100"],
     r"wrote the report of 8 patients: .*rep[/\\]index\.html"),
])
def test_a_command_that_writes_ends_with_one_line_saying_what(capsys, tmp_path, command, extra,
                                                              said):
    def argv(folder):
        return [command, SHEET, *[folder / a[1:] if isinstance(a, str) and a.startswith("@")
                                  else a for a in extra]]

    code, out, err = run(capsys, *argv(tmp_path))
    assert code == 0
    last = err.rstrip("\n").split("\n")[-1]
    assert re.fullmatch(r"lesiontrack: " + said, last), err
    assert "\r" not in err  # not a terminal: no progress bar
    assert len(re.findall(r"^lesiontrack: wrote", err, flags=re.M)) == 1
    assert "wrote" not in out  # stdout stays for data
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    code, _, err = run(capsys, "--quiet", *argv(quiet))
    assert code == 0 and err == ""  # --quiet: nothing at all


def test_demo_prints_the_index_on_stdout_and_says_so_on_stderr(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "-o", tmp_path / "demo")
    assert code == 0
    assert out == f"{tmp_path / 'demo' / 'index.html'}\n"
    assert err.startswith("lesiontrack: wrote the demo report (8 patients) into ")
    assert err.count("\n") == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_on_a_terminal_only(monkeypatch, tmp_path, capsys):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["report", str(SHEET), "-o", str(tmp_path / "rep"), "--permutations", "50"]) == 0
    shown = terminal.getvalue()
    assert "reading calls files" in shown and "report" in shown and "patient" in shown
    assert "\r" in shown  # tqdm redraws in place
    # the bars are cleared (carriage return) before the closing line
    assert shown.split("\r")[-1].lstrip(" ").startswith("lesiontrack: wrote the report of 8")
    assert capsys.readouterr().out == ""  # stdout stays for data

    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main(["--quiet", "report", str(SHEET), "-o", str(tmp_path / "rep2"),
                 "--permutations", "50"]) == 0
    assert quiet.getvalue() == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_progress_bars_on_a_real_pseudo_terminal(tmp_path):
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import termios

    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    done = subprocess.Popen(
        [sys.executable, "-m", "lesiontrack.cli", "report", str(SHEET), "-o",
         str(tmp_path / "rep"), "--permutations", "50"],
        stdin=child_fd, stderr=child_fd, stdout=subprocess.PIPE, close_fds=True)
    os.close(child_fd)
    shown = b""
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out = done.stdout.read()
    assert done.wait(timeout=300) == 0
    os.close(main_fd)
    text = shown.decode("utf-8", "replace")
    assert "reading calls files" in text and "patient/s" in text
    assert text.split("\r")[-2].lstrip(" ").startswith("lesiontrack: wrote the report of 8")
    assert out == b""  # stdout stays for data
