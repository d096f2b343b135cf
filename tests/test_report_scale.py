"""The report stays readable with `--genes all`: bounded figures, tables and patient pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SHARED
from scenarios import W557, call, table
from test_report import check_page

from lesiontrack import classify, test_clustering
from lesiontrack.report import write_report
from lesiontrack.report.cohort import MAX_NAMES, MAX_ROWS
from lesiontrack.report.sections import MAX_MATRIX_ROWS

MESKIT = SHARED / "external-data" / "meskit_crc_hz"


def exon_figure_height(index: str) -> float:
    """The height (pt) of the cohort figure 'Where secondary mutations fall'."""
    svg = re.search(r'<svg [^>]*aria-labelledby="fig-exon-title"[^>]*>', index).group(0)
    return float(re.search(r'height="([\d.]+)pt"', svg).group(1))


def matrix_rows(page: str) -> list[str]:
    body = page[page.index('<table class="matrix">'):]
    body = body[:body.index("</table>")]
    return re.findall(r'<a class="mut-name" href="#m\d+">([^<]*)</a>', body)


def many_genes_cohort(n_genes: int = 80, lesions: int = 3) -> dict:
    """One patient whose progressive lesion L1 carries a private (secondary) mutation in each of
    ``n_genes`` genes, each in its own exon, besides the truncal KIT exon 11 deletion; L2 and L3
    (controlled) were read at every site and do not carry them."""
    rows = []
    names = [f"GENE{i:03d}" for i in range(n_genes)]
    for lesion in range(1, lesions + 1):
        status = "progressive" if lesion == 1 else "controlled"
        rows.append(call("P1", f"L{lesion}", status, W557, 60, 150))
        for i, gene in enumerate(names):
            variant = ("7", 1_000_000 + 1000 * i, "C", "T", gene, str(i % 20 + 1), None,
                       f"p.R{100 + i}W")
            rows.append(call("P1", f"L{lesion}", status, variant, 40 if lesion == 1 else 0, 150))
    calls = table(rows)
    origins = classify(calls)
    return {"sheet": None, "calls": calls, "origins": origins,
            "stats": test_clustering(origins, calls, permutations=50), "sheet_path": None,
            "options": {"genes": "all"}}


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("many") / "report"
    write_report(out, **many_genes_cohort(), progress=False)
    return out


def test_the_pages_of_a_large_report_are_valid_html(many):
    for page in sorted(many.rglob("*.html")):
        check_page(page)


def test_the_exon_figure_shows_the_top_exons_and_says_how_many_more(many):
    index = (many / "index.html").read_text(encoding="utf-8")
    labels = re.findall(r"<tr><td>(GENE\d+ exon \d+)</td>", index)
    assert len(labels) == MAX_ROWS  # 80 exons: the 30 shown
    assert "and 50 more exons with fewer lesions" in index
    assert "50 more exons are not" in index  # said in the caption too
    assert exon_figure_height(index) < 1000


def test_the_patients_table_names_a_few_mutations_and_counts_the_rest(many):
    index = (many / "index.html").read_text(encoding="utf-8")
    assert f"and {80 + 1 - MAX_NAMES - 1} more" in index  # 80 secondary, 8 named


def test_a_patient_page_details_key_genes_and_counted_secondaries_and_condenses_the_rest(many):
    page = (many / "patients" / "P1.html").read_text(encoding="utf-8")
    rows = matrix_rows(page)
    assert len(rows) == MAX_MATRIX_ROWS
    assert rows[0].startswith("KIT ")  # KIT/PDGFRA always in detail, primary first
    hidden = 81 - MAX_MATRIX_ROWS
    assert f"{hidden} further mutations, in brief" in page
    assert '<svg class="heatmap"' in page
    # every further mutation once in the full table behind the disclosure
    details = page[page.index("<details>"):page.index("</details>")]
    assert len(re.findall(r'<tr id="m\d+">', details)) == hidden
    # one band for the identical rows: the heatmap's size does not follow the mutations
    heatmap = page[page.index('<svg class="heatmap"'):]
    heatmap = heatmap[:heatmap.index("</svg>")]
    assert heatmap.count("<rect") <= 3 + 3 * 2 + 1
    # ordered by the branch of the lesion tree: all 41 sit on L1's private branch
    assert "private: " + str(hidden) in heatmap
    # the lesion graph draws the detailed rows only
    graph = page[page.index('<svg class="lesion-graph"'):]
    assert graph[:graph.index("</svg>")].count('class="g-node"') == 3 + MAX_MATRIX_ROWS


def test_a_small_patient_keeps_the_full_matrix(tmp_path):
    out = write_report(tmp_path / "r", **many_genes_cohort(n_genes=5), progress=False).parent
    page = (out / "patients" / "P1.html").read_text(encoding="utf-8")
    assert len(matrix_rows(page)) == 6 and '<svg class="heatmap"' not in page


def test_meskit_crc_hz_with_all_genes_gives_a_readable_report(tmp_path):
    """MesKit's CRC_HZ (6 patients, 38k rows, exome): statuses made up (alternating by
    lesion) so that the figure has rows."""
    if not (MESKIT / "CRC_HZ.maf").exists():
        pytest.skip("shared MesKit CRC_HZ data not available")
    render_meskit(MESKIT, tmp_path / "report")


def render_meskit(folder: Path, out: Path) -> None:
    from lesiontrack import build_calls
    from lesiontrack.samplesheet import read_meskit_clinical

    sheet = read_meskit_clinical(folder / "CRC_HZ.clin.txt")
    order = {lesion: i for i, lesion in enumerate(sorted(set(sheet["lesion_id"])))}
    status = ["progressive" if order[x] % 2 else "controlled" for x in sheet["lesion_id"]]
    sheet = sheet.assign(role="lesion", status=status, status_raw=status, site="", timepoint="",
                         vcf_sample="", calls="CRC_HZ.maf",
                         calls_path=str(folder / "CRC_HZ.maf"), bam="", bam_path="",
                         assembly="GRCh37", line=range(2, len(sheet) + 2))
    calls = build_calls(sheet, sheet_path=folder / "CRC_HZ.clin.txt", genes="all")
    origins = classify(calls, sheet)
    stats = test_clustering(origins, calls, samples=sheet, permutations=100)
    index = write_report(out, sheet=sheet, calls=calls, origins=origins, stats=stats,
                         sheet_path=folder / "CRC_HZ.clin.txt", options={"genes": "all"},
                         progress=False)
    text = index.read_text(encoding="utf-8")
    assert index.stat().st_size < 300_000  # was 1.9 MB
    assert exon_figure_height(text) < 1000  # was 48,000 pt
    assert "more exons are not" in text
    check_page(index)
    pages = sorted((out / "patients").glob("*.html"))
    assert len(pages) == 6
    for page in pages:
        check_page(page)
        assert page.stat().st_size < 500_000, page.name
        html = page.read_text(encoding="utf-8")
        assert len(matrix_rows(html)) <= MAX_MATRIX_ROWS
        assert '<svg class="heatmap"' in html
