"""The HTML report: valid self-contained pages, escaped identifiers, safe file names, atomic and
reproducible output, and (when chromium is installed) pages that actually render."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES
from scenarios import D816V, INTRONIC, V654A, W557, call, focal_patient, table

import lesiontrack
from lesiontrack import OptionError, classify, test_clustering
from lesiontrack import cli as main_cli
from lesiontrack.cli import commands as cli_commands
from lesiontrack.filenames import safe_names
from lesiontrack.options import AnalysisOptions, Thresholds
from lesiontrack.output import frame_to_tsv
from lesiontrack.report import views, write_report

CHROMIUM = Path("/usr/bin/chromium")
NOTICE_WORDS = ("For research use only", "not for clinical decisions")
SHEET_COLUMNS = ["patient_id", "lesion_id", "sample_id", "role", "status", "status_raw", "site",
                 "timepoint", "calls_path", "bam_path"]


# ----------------------------------------------------------------------------------------------
# building small cohorts
# ----------------------------------------------------------------------------------------------

def generalized_patient(patient="P3"):
    """Two progressive lesions with D816V, two controlled without; one lesion not evaluable."""
    return [
        call(patient, "L1", "progressive", W557, 50, 100),
        call(patient, "L1", "progressive", D816V, 20, 100),
        call(patient, "L2", "progressive", W557, 50, 100),
        call(patient, "L2", "progressive", D816V, 12, 100),
        call(patient, "L3", "controlled", W557, 40, 100),
        call(patient, "L3", "controlled", D816V, 0, 120),
        call(patient, "L4", "controlled", W557, 40, 100),
        call(patient, "L4", "controlled", D816V, 0, 8),  # too shallow: not evaluable
        call(patient, "L4", "controlled", INTRONIC, 9, 100),
    ]


def make_cohort(folder: Path, rows: list[dict], *, sites: dict | None = None) -> dict:
    """write_report's keyword arguments for a calls table; the sample sheet and one calls file
    per patient are written into ``folder`` (so that provenance can checksum them)."""
    folder.mkdir(parents=True, exist_ok=True)
    calls = table(rows)
    for (patient, lesion), site in (sites or {}).items():
        calls.loc[(calls["patient_id"] == patient) & (calls["lesion_id"] == lesion),
                  "site"] = site
    sheet = calls.drop_duplicates(["patient_id", "sample_id"]).copy()
    paths = {}
    for number, (patient, rows_) in enumerate(calls.groupby("patient_id", sort=True)):
        path = folder / "calls" / f"patient{number}.tsv"
        path.parent.mkdir(exist_ok=True)
        path.write_text(frame_to_tsv(rows_), encoding="utf-8")
        paths[patient] = str(path)
    sheet["calls_path"] = sheet["patient_id"].map(paths)
    sheet["bam_path"] = ""
    sheet = sheet[SHEET_COLUMNS].reset_index(drop=True)
    sheet_path = folder / "samplesheet.tsv"
    sheet_path.write_text(frame_to_tsv(sheet), encoding="utf-8")
    origins = classify(calls, sheet)
    stats = test_clustering(origins, calls, samples=sheet, permutations=999, seed=7)
    return {"sheet": sheet, "calls": calls, "origins": origins, "stats": stats,
            "sheet_path": sheet_path,
            "options": {"min_depth": 20, "min_alt": 3, "min_vaf": 0.02, "permutations": 999,
                        "seed": 7, "focal_max": 1, "samplesheet": str(sheet_path)},
            "thresholds": Thresholds(min_depth=20, min_alt=3, min_vaf=0.02),
            "analysis": AnalysisOptions(permutations=999, seed=7, focal_max=1)}


@pytest.fixture
def cohort(tmp_path):
    rows = focal_patient("P1") + focal_patient("P2") + generalized_patient("P3")
    return make_cohort(tmp_path / "inputs", rows)


@pytest.fixture
def report(cohort, tmp_path) -> Path:
    return write_report(tmp_path / "out", **cohort, progress=False).parent


# ----------------------------------------------------------------------------------------------
# a strict HTML check (the standard library parser plus tag balance)
# ----------------------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
URL_ATTRIBUTES = {"src", "href", "xlink:href", "srcset", "action", "formaction", "poster",
                  "data", "background"}


class StrictPage(HTMLParser):
    """Collects what the checks need and records every structural problem."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.doctype = ""
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self._record(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._record(tag, attrs)

    def _record(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.append(attributes["id"])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)


def check_page(path: Path) -> StrictPage:
    """Parse one page and assert it is valid, self-contained, accessible HTML5."""
    text = path.read_text(encoding="utf-8")
    page = StrictPage()
    page.feed(text)
    page.close()
    assert text.startswith("<!doctype html>"), path
    assert page.doctype.lower() == "doctype html", path
    assert not page.problems, (path, page.problems[:5])
    assert not page.stack, (path, page.stack)
    html = [a for t, a in page.tags if t == "html"]
    assert html and html[0].get("lang") == "en", path
    assert any(t == "meta" and a.get("charset", "").lower() == "utf-8" for t, a in page.tags)
    assert page.count("h1") == 1, path
    assert page.count("title") >= 1 and page.count("style") >= 1, path
    assert page.count("table") == 0 or page.count("th") > 0, path
    assert len(page.ids) == len(set(page.ids)), (path, "duplicate ids")
    # self-contained: no scripts, no stylesheets or fonts from elsewhere, no external URLs
    assert page.count("script") == 0 and page.count("link") == 0, path
    assert page.count("iframe") == 0 and page.count("img") == 0, path
    for tag, attributes in page.tags:
        for name, value in attributes.items():
            if name in URL_ATTRIBUTES and value:
                assert not re.match(r"\s*(https?:|//|ftp:|data:text/html)", value, re.I), (
                    path, tag, name, value)
                assert "://" not in value, (path, tag, name, value)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", text, re.I), path
    assert "@import" not in text and "@font-face" not in text, path
    body = " ".join(" ".join(page.text).split())
    for words in NOTICE_WORDS:
        assert words in body, (path, words)
    return page


def pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


# ----------------------------------------------------------------------------------------------
# the pages
# ----------------------------------------------------------------------------------------------

def test_every_page_is_valid_self_contained_html_with_the_research_notice(report):
    found = pages(report)
    assert [p.relative_to(report).as_posix() for p in found] == [
        "index.html", "patients/P1.html", "patients/P2.html", "patients/P3.html"]
    for page in found:
        check_page(page)


def test_the_report_folder_holds_tables_json_graph_and_provenance(report, cohort):
    names = sorted(p.relative_to(report).as_posix() for p in report.rglob("*") if p.is_file())
    assert names == sorted([
        "calls.tsv", "cohort.graphml", "index.html", "origins.tsv", "provenance.json",
        "stats.json", *(f"patients/P{i}.{s}" for i in (1, 2, 3) for s in ("html", "json", "tsv")),
        "phylogeny/mutations.tsv", "phylogeny/phylogeny.json",
        *(f"phylogeny/trees/P{i}.nwk" for i in (1, 2, 3)),
    ])
    assert (report / "origins.tsv").read_text() == frame_to_tsv(cohort["origins"])
    assert json.loads((report / "stats.json").read_text())["lesion_table"] == (
        cohort["stats"]["lesion_table"])
    assert "<graphml" in (report / "cohort.graphml").read_text()
    p1 = pd.read_csv(report / "patients" / "P1.tsv", sep="\t")
    assert list(p1.columns) == lesiontrack.ORIGIN_COLUMNS
    assert set(p1["patient_id"]) == {"P1"} and len(p1) == 2
    data = json.loads((report / "patients" / "P1.json").read_text())
    assert {"patient_id", "lesions", "origins", "pattern", "notice"} <= set(data)
    assert data["pattern"]["pattern"] == "focal"
    assert [x["lesion_id"] for x in data["lesions"]] == ["B", "L1", "L2"]


def test_cohort_page_states_the_clustering_result_in_plain_words(report):
    text = " ".join((report / "index.html").read_text().split())
    # the within-patient test first, the pooled Fisher test labelled descriptive, and P3's L4
    # (depth 8 at D816) left out as not evaluable
    assert ("Shuffling progression labels within each patient (the headline test: lesions of "
            "one patient are not independent), p = ") in text
    assert "(999 permutations; 3 informative patients)" in text
    assert ("4 of 4 evaluable progressive lesions carry a secondary mutation, against 0 of 3 "
            "evaluable controlled lesions; left out as not evaluable: 0 progressive and 1 "
            "controlled lesion; pooled one-sided Fisher exact (descriptive only) p = ") in text
    assert text.index("Shuffling progression labels") < text.index("Fisher exact")
    for patient in ("P1", "P2", "P3"):
        assert f'href="patients/{patient}.html"' in text
    assert "KIT p.V654A" in text  # recurrent in P1 and P2
    recurrent = text.split('id="recurrent"')[1]
    assert "KIT p.V654A" in recurrent and "KIT p.D816V" not in recurrent.split("Files")[0]
    assert "focal" in text and "generalized" in text
    assert "<svg" in text and "KIT exon 13" in text and "KIT exon 17" in text


class MatrixReader(HTMLParser):
    """Reads table.matrix into its column lesions and (row mutation, cell classes, cell text)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.lesions: list[str] = []
        self.rows: list[tuple[str, list[tuple[str, str]]]] = []
        self._span_lesion = False
        self._row_head: str | None = None
        self._cell: list | None = None
        self._in_th_row = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "matrix" in (attributes.get("class") or ""):
            self.inside = True
        if not self.inside:
            return
        if tag == "span" and attributes.get("class") == "lesion-id":
            self._span_lesion = True
            self.lesions.append("")
        if tag == "th" and attributes.get("scope") == "row":
            self._row_head = ""
            self._in_th_row = True
            self.rows.append(("", []))
        if tag == "td":
            self._cell = [attributes.get("class", ""), ""]

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        if tag == "span":
            self._span_lesion = False
        if tag == "th" and self._in_th_row:
            self._in_th_row = False
            self.rows[-1] = (self._row_head.strip(), self.rows[-1][1])
        if tag == "td" and self._cell is not None:
            self.rows[-1][1].append((self._cell[0], " ".join(self._cell[1].split())))
            self._cell = None

    def handle_data(self, data):
        if self._span_lesion:
            self.lesions[-1] += data
        elif self._in_th_row:
            self._row_head += data
        elif self._cell is not None:
            self._cell[1] += data + " "


def read_matrix(path: Path) -> tuple[list[str], dict[str, dict[str, tuple[str, str]]]]:
    reader = MatrixReader()
    reader.feed(path.read_text())
    cells = {head: dict(zip(reader.lesions, row, strict=True)) for head, row in reader.rows}
    return reader.lesions, cells


def test_the_matrix_shows_the_secondary_mutation_in_the_progressive_lesion(report):
    lesions, cells = read_matrix(report / "patients" / "P1.html")
    assert lesions == ["B", "L1", "L2"]  # baseline, then progressive, then controlled
    heads = list(cells)
    assert heads[0].startswith("KIT p.W557_K558del") and heads[1].startswith("KIT p.V654A")
    v654a = cells[heads[1]]
    assert "cell-det" in v654a["L1"][0] and "origin-secondary" in v654a["L1"][0]
    assert v654a["L1"][1].startswith("20%") and "30/150" in v654a["L1"][1]
    # absent at baseline (0/180); one read in the controlled lesion is consistent with noise
    # (p = 0.53 against a 0.5% error rate) and the lesion is powered: absent too
    assert "cell-abs" in v654a["B"][0] and "0/180" in v654a["B"][1]
    assert "cell-abs" in v654a["L2"][0] and "1/150" in v654a["L2"][1]
    primary = cells[heads[0]]
    assert all("origin-primary" in primary[x][0] for x in lesions)


def test_not_evaluable_cells_differ_from_absent_ones(report):
    lesions, cells = read_matrix(report / "patients" / "P3.html")
    assert lesions == ["L1", "L2", "L3", "L4"]
    d816v = next(v for k, v in cells.items() if k.startswith("KIT p.D816V"))
    assert "origin-secondary" in d816v["L1"][0] and "origin-secondary" in d816v["L2"][0]
    assert "cell-abs" in d816v["L3"][0] and "0/120" in d816v["L3"][1]
    assert "cell-ne" in d816v["L4"][0] and d816v["L4"][1].startswith("n.e.")
    assert "depth 8" in d816v["L4"][1]


def test_patient_page_shows_graph_evidence_pattern_and_research_context(report):
    text = " ".join((report / "patients" / "P3.html").read_text().split())
    assert '<svg class="lesion-graph"' in text
    assert "Generalized progression" in text
    assert "decided by sharing across lesions" in text
    assert "absent from L3 (0/120 reads; P(detect) = 1.00 at expected VAF" in text
    # drug-class context is research context, never advice
    assert "In published series" in text and "Drug activity" in text
    # drug activity comes from the sourced drug table, never from free text: at D816 regorafenib
    # is not established, so nothing may call it active
    assert "reported sunitinib-resistant" not in text
    assert not re.search(r"regorafenib[^;.]*\b(active|sensitive)", text)
    assert "not a treatment recommendation" in text
    assert not re.search(r"\b(we recommend|should be treated|switch to)\b", text, re.I)


def test_hostile_identifiers_are_escaped_and_files_stay_inside_outdir(tmp_path):
    rows = (focal_patient("<b>x</b>") + focal_patient("../x")
            + focal_patient('"><script>alert(1)</script>'))
    for row in rows:
        if row["lesion_id"] == "L1":
            row["lesion_id"] = "<i>L1</i>"
    cohort = make_cohort(tmp_path / "inputs", rows,
                         sites={("../x", "L2"): '" onmouseover="alert(1)'})
    outdir = tmp_path / "nest" / "out"
    write_report(outdir, **cohort, progress=False)
    made = [p for p in (tmp_path / "nest").rglob("*")]
    assert all(p == outdir or outdir in p.parents for p in made)
    assert not list(tmp_path.glob("x*")) and not (tmp_path / "nest" / "x.html").exists()
    files = sorted(p.name for p in (outdir / "patients").glob("*.html"))
    assert len(files) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+\.html", f) and not f.startswith(".")
               for f in files)
    for page in pages(outdir):
        text = page.read_text()
        parsed = check_page(page)
        assert "<b>x</b>" not in text and "<script>" not in text and "<i>L1</i>" not in text
        assert not any(t in ("b", "i", "script") for t, _ in parsed.tags)
        assert not any("onmouseover" in a for _, attrs in parsed.tags for a in attrs)
    index = (outdir / "index.html").read_text()
    assert "&lt;b&gt;x&lt;/b&gt;" in index and "../x" in index
    page = (outdir / "patients" / f"{safe_names(['../x'])['../x']}.html").read_text()
    assert "&lt;i&gt;L1&lt;/i&gt;" in page and "&#34; onmouseover=&#34;" in page


def test_safe_names_are_clean_unique_and_stable():
    names = safe_names(["a/b", "a_b", "A_B", ".", "..", "", "CON", "x" * 300, "P1", "ü"])
    assert names["P1"] == "P1" and names["A_B"] == "A_B"  # already safe: kept
    assert names["a/b"].startswith("a_b-") and names["a_b"].startswith("a_b-")
    assert len({n.lower() for n in names.values()}) == len(names)
    for identifier, name in names.items():
        assert re.fullmatch(r"[A-Za-z0-9._-]+", name), (identifier, name)
        assert name not in (".", "..") and not name.startswith(".")
        assert len(name) <= 64
    assert names["CON"] != "CON"
    assert safe_names(["a_b", "a/b", "A_B"]) == {k: names[k] for k in ("a_b", "a/b", "A_B")}


def test_two_ids_with_the_same_safe_name_get_two_files(tmp_path):
    cohort = make_cohort(tmp_path / "inputs", focal_patient("a/b") + focal_patient("a_b")
                         + focal_patient("A b"))
    outdir = write_report(tmp_path / "out", **cohort, progress=False).parent
    for suffix in ("html", "tsv", "json"):
        assert len(list((outdir / "patients").glob(f"*.{suffix}"))) == 3
    seen = {json.loads(p.read_text())["patient_id"] for p in (outdir / "patients").glob("*.json")}
    assert seen == {"a/b", "a_b", "A b"}
    index = (outdir / "index.html").read_text()
    for name in safe_names(["a/b", "a_b", "A b"]).values():
        assert f'href="patients/{name}.html"' in index


def test_same_inputs_give_byte_identical_outputs(cohort, tmp_path):
    first = write_report(tmp_path / "one", **cohort, progress=False).parent
    second = write_report(tmp_path / "two", **cohort, progress=False).parent

    def files(folder):
        return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())

    assert files(first) == files(second)
    for name in files(first):
        if name.name != "provenance.json":
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
    one = json.loads((first / "provenance.json").read_text())
    two = json.loads((second / "provenance.json").read_text())
    assert one.pop("run_time") and two.pop("run_time")
    assert one == two


def test_provenance_records_version_options_and_input_checksums(report, cohort):
    data = json.loads((report / "provenance.json").read_text())
    assert data["version"] == lesiontrack.__version__
    assert data["options"] == cohort["options"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", data["run_time"])
    inputs = {x["path"]: x for x in data["inputs"]}
    assert set(inputs) == {"samplesheet.tsv", "calls/patient0.tsv", "calls/patient1.tsv",
                           "calls/patient2.tsv"}
    sheet = cohort["sheet_path"]
    assert inputs["samplesheet.tsv"]["sha256"] == hashlib.sha256(sheet.read_bytes()).hexdigest()
    assert inputs["calls/patient0.tsv"]["role"] == "calls"
    for name in ("stats.json", "patients/P1.json", "index.html"):
        assert "run_time" not in (report / name).read_text()


def test_a_non_empty_outdir_is_refused_unless_forced(cohort, tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "keep.txt").write_text("mine")
    with pytest.raises(OptionError, match="not empty"):
        write_report(outdir, **cohort, progress=False)
    assert (outdir / "keep.txt").read_text() == "mine"
    write_report(outdir, **cohort, force=True, progress=False)
    assert not (outdir / "keep.txt").exists() and (outdir / "index.html").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write_report(empty, **cohort, progress=False) == empty / "index.html"


def test_an_error_leaves_nothing_half_written(cohort, tmp_path, monkeypatch):
    outdir = tmp_path / "out"
    write_report(outdir, **cohort, progress=False)
    before = {p: p.read_bytes() for p in outdir.rglob("*") if p.is_file()}

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(views, "patient_json", broken)
    with pytest.raises(RuntimeError):
        write_report(outdir, **cohort, force=True, progress=False)
    assert {p: p.read_bytes() for p in outdir.rglob("*") if p.is_file()} == before
    with pytest.raises(RuntimeError):
        write_report(tmp_path / "new", **cohort, progress=False)
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs", "out"]  # no temporary left


def _matrix_states(outdir: Path, patient_file: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(lesion, variant key) -> (state, reason) of a patient's JSON matrix."""
    data = json.loads((outdir / "patients" / f"{patient_file}.json").read_text(encoding="utf-8"))
    return {(c["lesion_id"], c["variant_key"]): (c["state"], c["reason"])
            for c in data["matrix"]}


def _states(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r.lesion_id, r.variant_key): (r.state, r.reason) for r in frame.itertuples()}


def test_the_report_uses_its_typed_thresholds_even_a_min_depth_of_zero(tmp_path):
    """``--min-depth 0`` means 0, not the default 20 (an ``options.get(...) or DEFAULT``
    fallback turned 0 into 20): the report decides with its typed :class:`Thresholds`, and the
    recorded options dict (here still saying 20) is only shown."""
    from lesiontrack import lesion_states

    cohort = make_cohort(tmp_path / "inputs", generalized_patient("P3"))
    zero = Thresholds(min_depth=0)
    outdir = write_report(tmp_path / "out", **{**cohort, "thresholds": zero},
                          progress=False).parent
    calls = cohort["calls"]
    shallow = ("L4", calls.loc[calls["hgvsp"] == "p.D816V", "variant_key"].iloc[0])
    expected = _states(lesion_states(calls, cohort["sheet"], thresholds=zero))
    shown = _matrix_states(outdir, "P3")
    assert shown == {k: v for k, v in expected.items() if k in shown}
    default = _states(lesion_states(calls, cohort["sheet"], thresholds=Thresholds()))
    assert default[shallow][1].startswith("depth")  # depth 8 < 20 under the default
    assert shown[shallow] == expected[shallow] != default[shallow]
    assert not shown[shallow][1].startswith("depth")  # 8 reads pass a minimum depth of 0
    index = (outdir / "index.html").read_text(encoding="utf-8")
    assert "a depth of at least 0 and" in index


def test_report_command_with_min_depth_zero(tmp_path):
    sheet = FIXTURES / "samplesheet.tsv"
    if not sheet.exists():
        pytest.skip("demo fixtures not generated")
    from lesiontrack.cli import main

    out = tmp_path / "out"
    assert main(["-q", "report", str(sheet), "--min-depth", "0", "--permutations", "10",
                 "-o", str(out)]) == 0
    assert "a depth of at least 0 and" in (out / "index.html").read_text(encoding="utf-8")
    zero = Thresholds(min_depth=0)
    samples = lesiontrack.read_samplesheet(sheet)
    calls = lesiontrack.read_calls(sheet, thresholds=zero)
    states = lesiontrack.lesion_states(calls, samples, thresholds=zero)
    names = safe_names(states["patient_id"].astype(str))
    for patient, rows in states.groupby("patient_id"):
        shown = _matrix_states(out, names[str(patient)])
        expected = _states(rows)
        assert shown == {k: v for k, v in expected.items() if k in shown}


def test_an_outdir_holding_the_inputs_is_refused(cohort, tmp_path):
    with pytest.raises(OptionError, match="input file"):
        write_report(tmp_path / "inputs", **cohort, force=True, progress=False)
    assert cohort["sheet_path"].is_file()


def test_the_progress_bar_never_writes_to_stdout(cohort, tmp_path, capsys):
    write_report(tmp_path / "out", **cohort, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""


def test_a_patient_without_mutations_still_gets_a_page(tmp_path):
    rows = focal_patient("P1") + [call("P9", "L1", "controlled", V654A, 0, 100)]
    cohort = make_cohort(tmp_path / "inputs", rows)
    outdir = write_report(tmp_path / "out", **cohort, progress=False).parent
    page = check_page(outdir / "patients" / "P9.html")
    assert "No mutation was detected" in " ".join(page.text)
    assert json.loads((outdir / "patients" / "P9.json").read_text())["origins"] == []


# ----------------------------------------------------------------------------------------------
# the commands
# ----------------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    return main_cli.build_parser()


def test_report_command_refuses_a_non_empty_outdir_before_reading(tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "x").write_text("")
    args = parser().parse_args(["report", str(tmp_path / "missing.tsv"), "-o", str(outdir)])
    with pytest.raises(OptionError, match="not empty"):
        main_cli.run(args)


def test_demo_parser_carries_every_default_option():
    args = parser().parse_args(["demo", "-o", "somewhere"])
    assert args.report_command == "demo" and args.min_depth == 20 and args.permutations > 0
    assert args.genes and not args.force


needs_fixtures = pytest.mark.skipif(not (FIXTURES / "samplesheet.tsv").is_file(),
                                    reason="the demo cohort (fixtures/) is not generated")


@needs_fixtures
def test_report_command_on_the_demo_cohort(tmp_path):
    outdir = tmp_path / "report"
    args = parser().parse_args(["report", str(FIXTURES / "samplesheet.tsv"), "-o", str(outdir),
                                "--permutations", "999"])
    assert main_cli.run(args) == 0
    for page in pages(outdir):
        check_page(page)
    assert len(list((outdir / "patients").glob("*.html"))) >= 7
    lesions, cells = read_matrix(outdir / "patients" / "GIST01.html")
    assert lesions[0] == "BL"
    secondary = [v for k, v in cells.items() if "secondary" in k]
    assert secondary and any("origin-secondary" in secondary[0][x][0] for x in lesions)
    provenance = json.loads((outdir / "provenance.json").read_text())
    paths = {x["path"] for x in provenance["inputs"]}
    assert "samplesheet.tsv" in paths and any(p.startswith("vcf/") for p in paths)
    assert all(x["sha256"] for x in provenance["inputs"])
    assert provenance["options"]["permutations"] == 999


@needs_fixtures
def test_demo_command_prints_one_line(tmp_path, capsys, monkeypatch):
    if importlib.util.find_spec("lesiontrack.demo") is None:  # not packaged yet: use fixtures/
        monkeypatch.setattr("importlib.resources.files", lambda package: FIXTURES)
    args = parser().parse_args(["demo", "-o", str(tmp_path / "demo"), "--force"])
    assert main_cli.run(args) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and Path(out.strip()) == tmp_path / "demo" / "index.html"
    assert Path(out.strip()).is_file()


# ----------------------------------------------------------------------------------------------
# a real browser (skipped when chromium is absent)
# ----------------------------------------------------------------------------------------------

def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               "--window-size=1280,1600", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def distinct_colours(png: Path) -> int:
    try:
        from PIL import Image

        with Image.open(png) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
            return len(colours) if colours is not None else 1 << 20
    except ImportError:  # pragma: no cover - matplotlib is always installed
        import matplotlib.image
        import numpy as np

        pixels = matplotlib.image.imread(png)[..., :3].reshape(-1, 3)
        return len(np.unique(pixels, axis=0))


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
def test_pages_render_in_a_browser_and_fit_a_laptop_screen(report, tmp_path):
    for page in (report / "index.html", report / "patients" / "P3.html"):
        png = tmp_path / f"{page.stem}.png"
        result = chromium(tmp_path, f"--screenshot={png}", page.as_uri())
        assert png.is_file(), result.stderr[-2000:]
        assert distinct_colours(png) > 20, f"{page.name} renders blank"
        # no horizontal overflow at 1280 px: measure on a copy with a one-line script
        probe = tmp_path / f"probe-{page.stem}.html"
        shutil.copytree(report, tmp_path / f"copy-{page.stem}")
        copy = tmp_path / f"copy-{page.stem}" / page.relative_to(report)
        text = copy.read_text().replace(
            "</body>", "<script>document.body.setAttribute('data-width', "
                       "document.documentElement.scrollWidth)</script></body>")
        probe = copy.with_name("probe.html")
        probe.write_text(text)
        dom = chromium(tmp_path, "--dump-dom", probe.as_uri()).stdout
        width = re.search(r'data-width="(\d+)"', dom)
        assert width, dom[-500:]
        assert int(width.group(1)) <= 1280, f"{page.name} is {width.group(1)} px wide"


def test_no_page_mentions_an_absolute_input_path(report, cohort):
    inputs = str(cohort["sheet_path"].parent)
    for page in pages(report):
        assert inputs not in page.read_text(), page
    assert os.fspath(report) not in (report / "index.html").read_text()


def test_a_flagged_call_shows_the_disagreeing_rule(tmp_path):
    # D816V already in the pre-treatment biopsy: primary by the baseline rule, although the
    # knowledge table calls D816 an imatinib-resistance site -> a visible flag
    rows = [call("P1", "B", "baseline", D816V, 40, 150), call("P1", "L1", "progressive", D816V,
                                                              50, 150)]
    cohort = make_cohort(tmp_path / "inputs", rows)
    outdir = write_report(tmp_path / "out", **cohort, progress=False).parent
    text = " ".join((outdir / "patients" / "P1.html").read_text().split())
    assert 'class="flag"' in text and "knowledge=secondary" in text
    assert "1 flagged" in (outdir / "index.html").read_text()


def test_report_with_a_patient_table_has_an_outcomes_section(tmp_path):
    from lesiontrack.cli import main

    sheet = FIXTURES / "samplesheet.tsv"
    patients = FIXTURES / "patients.tsv"
    if not patients.exists():
        pytest.skip("demo fixtures not generated")
    out = tmp_path / "report"
    assert main(["-q", "report", str(sheet), "--patients", str(patients), "-o", str(out),
                 "--permutations", "500"]) == 0
    page = (out / "index.html").read_text()
    assert 'id="outcomes"' in page and "Progression-free survival" in page
    assert page.count("<svg") >= 3  # exon figure + two Kaplan-Meier figures
    # the matplotlib figures keep their ids apart (each id and url(#id) prefixed per figure)
    check_page(out / "index.html")
    assert 'id="km-pfs-pattern-figure_1"' in page and 'id="exon-figure_1"' in page
    assert (out / "outcomes.json").is_file() and (out / "outcomes.tsv").is_file()
    provenance = json.loads((out / "provenance.json").read_text())
    assert any(item.get("role") == "patients" for item in provenance["inputs"])


def test_report_pages_are_identical_for_every_jobs(tmp_path):
    from lesiontrack.cli import main

    sheet = FIXTURES / "samplesheet.tsv"
    if not sheet.exists():
        pytest.skip("demo fixtures not generated")
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        assert main(["-q", "report", str(sheet), "-o", str(out), "--jobs", jobs,
                     "--permutations", "300"]) == 0
        outs.append(out)
    files = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file())
    for name in files:
        if name.name != "provenance.json":  # holds the run time and the options as given
            assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def _report_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "provenance.json"}  # run time, options as given


@pytest.mark.parametrize("source", ["sheet", "tsv", "parquet"])
def test_report_is_the_same_for_every_batch_of_patients(tmp_path, monkeypatch, source):
    """``report`` reads, classifies and writes a batch of patients at a time (its memory
    follows the batch, not the cohort): every cut of the cohort gives the bytes of the report
    written from whole tables (``write_report``), from raw files or from calls tables read in
    chunks of a few rows."""
    import lesiontrack as lt
    from lesiontrack import calls_tables as calls_module
    from lesiontrack.cli import main

    sheet = FIXTURES / "samplesheet.tsv"
    patients = FIXTURES / "patients.tsv"
    if not sheet.exists():
        pytest.skip("demo fixtures not generated")
    options = ["--permutations", "300", "--patients", str(patients)]
    inputs = [str(sheet)]
    if source != "sheet":
        table = tmp_path / f"calls.{source}"
        assert main(["-q", "calls", str(sheet), "-o", str(table)]) == 0
        inputs = ["--calls", str(table)]
        monkeypatch.setattr(calls_module, "TABLE_CHUNK_ROWS", 7)  # many chunks, many spills
    # the reference: whole tables through the API
    from lesiontrack.outcomes import analyse
    from lesiontrack.patients import read_patients
    from lesiontrack.report.figures import km_figures

    samples = lt.read_samplesheet(sheet)
    # (a TSV keeps 6 significant digits of a VAF: the reference reads the same table whole)
    table_calls = lt.read_calls(sheet) if source == "sheet" else lt.read_calls_table(table)
    patient_table = read_patients(patients)  # it decides the patterns, as --patients does
    from lesiontrack.roads import read_sheet_copy_number

    # the sheet's cnv files (with --calls too: the sheet is not given, so none are read)
    copy_number = read_sheet_copy_number(samples if source == "sheet" else None, table_calls)
    origins = lt.classify(table_calls, samples, patients=patient_table)  # treatment start
    stats = lt.test_clustering(origins, table_calls, samples=samples, permutations=300,
                               patients=patient_table, copy_number=copy_number)
    result, groups = analyse(patient_table, stats["patients"], "pattern")
    figures = km_figures(patient_table, groups, result)
    reference = tmp_path / "whole"
    write_report(reference, sheet=samples, calls=table_calls, origins=origins, stats=stats,
                 sheet_path=sheet, options={}, outcomes={"result": result, "figures": figures,
                                                         "by": "pattern"},
                 copy_number=copy_number, patient_table=patient_table)
    expected = _report_files(reference)
    for size in (1, 3, 200):
        monkeypatch.setattr(cli_commands, "BATCH_PATIENTS", size)
        out = tmp_path / f"batch{size}"
        assert main(["-q", "report", *inputs, "-o", str(out), *options]) == 0
        got = _report_files(out)
        assert sorted(got) == sorted(expected)
        for name, data in expected.items():
            if name == "index.html":  # the settings shown: the command's, not the API's {}
                settings = re.compile(rb"\n<details>\s*<summary>All settings.*?</details>", re.S)
                assert settings.search(got[name]) and not settings.search(data)
                got[name] = settings.sub(b"", got[name])
            assert got[name] == data, (size, name)
