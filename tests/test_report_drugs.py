"""The patient page shows drug activity from the sourced drug table, never as advice."""

from __future__ import annotations

import re

from test_report import generalized_patient, make_cohort

from lesiontrack.report import views, write_report


def _page(tmp_path, consequences: dict[str, str]) -> str:
    cohort = make_cohort(tmp_path / "inputs", generalized_patient("P3"))
    origins = cohort["origins"].copy()
    origins["consequence"] = origins["hgvsp"].map(consequences).fillna("unknown")
    cohort["origins"] = origins
    out = write_report(tmp_path / "out", **cohort, progress=False).parent
    return " ".join((out / "patients" / "P3.html").read_text().split())


def test_patient_page_shows_sourced_drug_activity_for_d816v(tmp_path):
    text = _page(tmp_path, {"p.D816V": "missense", "p.W557_K558del": "inframe_deletion"})
    start = text.index("Published series at p.D816V (activation loop)")
    section = text[start:text.index("</dd>", start)]
    assert re.search(r"regorafenib <span class=\"mono\">unknown</span> \(not established\)",
                     section)
    assert re.search(r"avapritinib <span class=\"mono\">sensitive</span> \(grade B, in vitro "
                     r"only; <abbr title=\"Evans EK", section)
    assert "sunitinib <span class=\"mono\">resistant</span> (grade A" in section
    assert "here it was acquired (secondary)" in section
    # the truncal exon 11 deletion: the exon row, worded by its origin
    assert "Published series at codons 550-592 (juxtamembrane domain)" in text
    assert "here it is the primary mutation" in text
    assert "This summarises published series: it is not a treatment recommendation" in text
    # the lesions x drugs grid (a table: its cells are checked one by one) ...
    grid = text[text.index('<table class="coverage">'):]
    grid = grid[:grid.index("</table>")]
    assert re.search(r'title="regorafenib in [^"]*: unknown">unknown</td>', grid)
    assert not re.search(r'title="regorafenib in [^"]*: covered"', grid)
    assert "it is not a treatment recommendation" in text
    # ... and nowhere else is regorafenib said to be active at D816
    prose = text.replace(grid, "")
    assert not re.search(r"regorafenib[^;.]*\b(active|sensitive)", prose)


def test_unknown_consequence_says_why_no_drug_activity_is_shown(tmp_path):
    text = _page(tmp_path, {})
    assert "not looked up: the consequence of this change is not known" in text
    assert "<span class=\"mono\">sensitive</span>" not in text


def test_drug_view_of_a_synonymous_change_is_empty():
    assert views.drug_view("KIT", 816, "p.D816=", "synonymous", "secondary") is None
    assert views.drug_view("KIT", None, "", "intronic", "undetermined") is None
    assert views.drug_view("KIT", 700, "p.A700T", "missense", "secondary") is None
    view = views.drug_view("KIT", 816, "p.D816V", None, "secondary")
    assert view["calls"] == [] and view["site"] == "p.D816V"
