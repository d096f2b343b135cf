"""Roads to resistance through the commands: copy number of the sheet's cnv files, the
progression mechanism of every progressive lesion in stats --json, the report and the graph."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES

from lesiontrack.cli import main

HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr4,length=190214555>\n" + (
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n')
LESIONS = ["L1", "L2", "L3", "L4", "L5"]
STATUS = {"L1": "PD", "L2": "PD", "L3": "PD", "L4": "SD", "L5": "PD"}
#: KIT V560D (the driver, every lesion, VAF 0.5: tumour content 1) and D816V (secondary: in
#: L1 only, absent with power elsewhere), GRCh38.
RECORDS = [
    ("54727447", "T", "A", ["100,100"] * 5),
    ("54733155", "A", "T", ["120,80", "200,0", "200,0", "200,0", "200,0"]),
]
#: KIT (GRCh38 54,657,928-54,740,715) copy number per lesion: plain absolute segments.
KIT_CN = {"L1": 2, "L2": 8, "L3": 2, "L4": 7}


def plain_cn(kit_cn: float) -> str:
    return ("chrom\tstart\tend\tcopy_number\tprobes\n"
            "chr4\t1\t54600000\t2\t900\n"
            f"chr4\t54600001\t54800000\t{kit_cn:g}\t40\n"
            "chr4\t54800001\t190000000\t2\t2000\n")


def cohort(tmp_path, cnv: dict[str, str] | None = None, purity: dict[str, str] | None = None,
           records=RECORDS):
    """P1: five lesions of one multi-sample VCF; L1 carries the secondary D816V; L2 (KIT CN 8)
    and L3 (CN 2) have none, powered; L4 controlled with KIT CN 7; L5 without a cnv file."""
    lines = [HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
             + "\t".join(LESIONS) + "\n"]
    for pos, ref, alt, ads in records:
        lines.append(f"chr4\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT:AD\t"
                     + "\t".join(f"0/1:{ad}" for ad in ads) + "\n")
    (tmp_path / "P1.vcf").write_text("".join(lines))
    if cnv is None:
        cnv = {}
        for lesion, value in KIT_CN.items():
            (tmp_path / f"{lesion}.seg").write_text(plain_cn(value))
            cnv[lesion] = f"{lesion}.seg"
    purity = purity or {}
    sheet = ["patient_id\tlesion_id\tsample_id\tstatus\tcalls\tvcf_sample\tassembly\tcnv\tpurity"]
    for lesion in LESIONS:
        sheet.append(f"P1\t{lesion}\tP1_{lesion}\t{STATUS[lesion]}\tP1.vcf\t{lesion}\tGRCh38\t"
                     f"{cnv.get(lesion, '')}\t{purity.get(lesion, '')}")
    path = tmp_path / "sheet.tsv"
    path.write_text("\n".join(sheet) + "\n")
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def stats_json(capsys, sheet, *extra) -> dict:
    code, out, err = run(capsys, "-q", "stats", sheet, "--json", "--permutations", "50", *extra)
    assert code == 0, err
    return json.loads(out)


def test_every_road_in_stats_json(capsys, tmp_path):
    """One progressive lesion per road: the secondary mutation, KIT amplification without a
    secondary (Liegl 2008), unexplained (powered for a clonal mutation, copy-neutral), and
    not evaluable (no cnv file); a controlled lesion with KIT CN 7 is flagged."""
    found = stats_json(capsys, cohort(tmp_path))
    patient = found["patients"][0]
    assert patient["progression_mechanism"] == {
        "L1": "secondary_mutation", "L2": "KIT_amplification", "L3": "unexplained",
        "L5": "not_evaluable"}
    [flag] = patient["controlled_amplifications"]
    assert flag["lesion_id"] == "L4" and flag["gene"] == "KIT" and flag["copy_number"] == 7
    assert flag["sample_id"] == "P1_L4" and "controlled lesion" in flag["evidence"]


def test_amp_cn_boundary_through_the_command_line(capsys, tmp_path):
    """KIT CN 8 is an amplification at --amp-cn 8 (>=), a gain at 8.01: L2 is then unexplained,
    and the controlled L4 (CN 7) is flagged at 7 but not at 7.01."""
    sheet = cohort(tmp_path)
    at = stats_json(capsys, sheet, "--amp-cn", "8")["patients"][0]
    above = stats_json(capsys, sheet, "--amp-cn", "8.01")["patients"][0]
    assert at["progression_mechanism"]["L2"] == "KIT_amplification"
    assert above["progression_mechanism"]["L2"] == "unexplained"
    assert at["controlled_amplifications"] == []
    assert len(stats_json(capsys, sheet, "--amp-cn", "7")["patients"][0][
        "controlled_amplifications"]) == 1
    assert stats_json(capsys, sheet, "--amp-cn", "7.01")["patients"][0][
        "controlled_amplifications"] == []
    code, _, err = run(capsys, "stats", sheet, "--amp-cn", "0")
    assert code == 2 and err.count("\n") == 1 and "--amp-cn" in err


def test_log2_files_are_adjusted_for_the_tumour_content_of_the_sheet_or_the_driver(
        capsys, tmp_path):
    """log2 1.0 is r = 2: with tumour content 0.5, CN = 2 x (2 - 0.5) / 0.5 = 6 (amplified);
    pure, CN = 4 (a gain). The tumour content comes from the sheet's purity, else from the
    driver (VAF 0.25 in L2 here: 2 x 0.25 = 0.5)."""
    log2 = ("chromosome\tstart\tend\tgene\tlog2\tdepth\tprobes\tweight\n"
            "chr4\t54200000\t54600000\tPDGFRA\t0.0\t201.7\t60\t51.0\n"
            "chr4\t54600000\t54800000\tKIT\t1.0\t900.1\t40\t35.2\n")
    (tmp_path / "L2.cns").write_text(log2)
    for lesion in ("L1", "L3", "L4"):
        (tmp_path / f"{lesion}.seg").write_text(plain_cn(2))
    cnv = {"L1": "L1.seg", "L2": "L2.cns", "L3": "L3.seg", "L4": "L4.seg"}
    sheet = cohort(tmp_path, cnv, purity={"L2": "0.5"})
    assert stats_json(capsys, sheet)["patients"][0]["progression_mechanism"]["L2"] == (
        "KIT_amplification")
    sheet = cohort(tmp_path, cnv, purity={"L2": "1"})  # pure: CN 4, a gain
    assert stats_json(capsys, sheet)["patients"][0]["progression_mechanism"]["L2"] == (
        "unexplained")
    driver = (*RECORDS[0][:3], ["100,100", "150,50", "100,100", "100,100", "100,100"])
    sheet = cohort(tmp_path, cnv, records=[driver, RECORDS[1]])  # L2: tumour content 0.5
    assert stats_json(capsys, sheet)["patients"][0]["progression_mechanism"]["L2"] == (
        "KIT_amplification")


def test_graph_has_an_amplified_edge_to_the_gene(capsys, tmp_path):
    import networkx as nx

    sheet = cohort(tmp_path)
    assert run(capsys, "-q", "graph", sheet, "-o", tmp_path / "g.json")[0] == 0
    data = json.loads((tmp_path / "g.json").read_text())
    edges = {(e["source"], e["target"]): e for e in data["links"]}
    edge = edges[("lesion:P1/L2", "gene:KIT")]
    assert edge["relation"] == "amplified" and edge["copy_number"] == 8
    assert edge["sample_id"] == "P1_L2"
    assert ("lesion:P1/L4", "gene:KIT") in edges  # controlled, amplified all the same
    assert not any(t == "gene:KIT" for s, t in edges if s in ("lesion:P1/L1", "lesion:P1/L3"))
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["gene:KIT"]["kind"] == "gene"
    assert run(capsys, "-q", "graph", sheet, "-o", tmp_path / "g.graphml")[0] == 0
    graph = nx.read_graphml(tmp_path / "g.graphml")
    assert graph.edges["lesion:P1/L2", "gene:KIT"]["relation"] == "amplified"
    assert run(capsys, "-q", "graph", sheet, "--amp-cn", "9", "-o", tmp_path / "h.json")[0] == 0
    assert "gene:KIT" not in (tmp_path / "h.json").read_text()


def test_report_shows_the_roads_and_the_copy_number_track(capsys, tmp_path):
    sheet = cohort(tmp_path)
    out = tmp_path / "report"
    code, _, err = run(capsys, "-q", "report", sheet, "-o", out, "--permutations", "50")
    assert code == 0, err
    index = (out / "index.html").read_text()
    assert 'id="roads"' in index and "Roads to resistance" in index
    assert 'href="patients/P1.html#roads">P1 L3</a>' in index  # the unexplained one, listed
    page = (out / "patients" / "P1.html").read_text()
    assert "KIT and PDGFRA copy number in each lesion" in page
    assert 'class="cn cn-amplification"' in page and "<strong>8.0</strong> amplification" in page
    assert "KIT_amplification" in page and "unexplained" in page
    patient = json.loads((out / "patients" / "P1.json").read_text())
    assert patient["progression_mechanism"]["L2"] == "KIT_amplification"
    track = {(r["lesion_id"], r["gene"]): r for r in patient["copy_number"]}
    assert track[("L2", "KIT")]["call"] == "amplification"
    assert track[("L5", "KIT")]["call"] == "not_evaluable"
    stats = json.loads((out / "stats.json").read_text())
    assert stats["patients"][0]["progression_mechanism"]["L3"] == "unexplained"
    graphml = (out / "cohort.graphml").read_text()
    assert '<edge source="lesion:P1/L2" target="gene:KIT">' in graphml
    provenance = json.loads((out / "provenance.json").read_text())
    assert sorted(i["path"] for i in provenance["inputs"] if i["role"] == "copy_number") == [
        "L1.seg", "L2.seg", "L3.seg", "L4.seg"]


def test_a_report_is_never_written_over_a_cnv_file(capsys, tmp_path):
    folder = tmp_path / "cnv"
    folder.mkdir()
    (folder / "L2.seg").write_text(plain_cn(8))
    sheet = cohort(tmp_path, {"L2": "cnv/L2.seg"})
    before = (folder / "L2.seg").read_bytes()
    code, _, err = run(capsys, "report", sheet, "-o", folder, "--force")
    assert code == 2 and "holds an input file" in err and "L2.seg" in err
    for command in ("stats", "graph"):
        code, _, err = run(capsys, command, sheet, "-o", folder / "L2.seg")
        assert code == 2 and "the output is an input file: the copy-number file" in err
    assert (folder / "L2.seg").read_bytes() == before


@pytest.mark.parametrize(("text", "expect"), [
    ("chrom\tstart\tend\tcopy_number\nchr4\t100\t50\t2\n", "start"),
    ("chrom\tstart\tend\tcopy_number\nchr4\t1\t191000000\t2\n", "beyond chr4 of GRCh38"),
])
def test_a_bad_cnv_file_is_one_line_and_nothing_is_written(capsys, tmp_path, text, expect):
    (tmp_path / "bad.seg").write_text(text)
    sheet = cohort(tmp_path, {"L2": "bad.seg"})
    code, out, err = run(capsys, "stats", sheet, "--json", "-o", tmp_path / "s.json")
    assert code == 2 and err.count("\n") == 1 and expect in err and "bad.seg" in err
    assert not (tmp_path / "s.json").exists() and out == ""


def test_demo_mechanisms(capsys):
    """The demo: GIST03's L3 (no secondary found) is explained by KIT amplification; GIST05's
    L1 is unexplained; L2 is not evaluable (2 points over PDGFRA)."""
    sheet = FIXTURES / "samplesheet.tsv"
    if not sheet.exists():
        pytest.skip("demo fixtures not generated")
    found = {p["patient_id"]: p for p in stats_json(capsys, sheet)["patients"]}
    assert found["GIST03"]["progression_mechanism"] == {
        "L1": "secondary_mutation", "L2": "secondary_mutation", "L3": "KIT_amplification"}
    assert found["GIST05"]["progression_mechanism"] == {"L1": "unexplained",
                                                       "L2": "not_evaluable"}
    for patient in ("GIST01", "GIST02", "GIST04", "GIST07"):
        assert set(found[patient]["progression_mechanism"].values()) == {"secondary_mutation"}
    assert found["GIST06"]["progression_mechanism"] == {}
    assert all(p["controlled_amplifications"] == [] for p in found.values())


def test_sample_tumour_content_is_the_one_the_lesion_states_use(tmp_path):
    """One home: the per-sample tumour content equals lesion_states' where the driver decides
    it, is the sheet's purity where given, and is unknown (NaN, no source) without calls."""
    import math

    import lesiontrack as lt
    from lesiontrack.calls import empty_calls_table
    from lesiontrack.evidence import lesion_states, sample_tumour_content

    sheet_path = cohort(tmp_path, {}, purity={"L3": "0.4"},
                        records=[(*RECORDS[0][:3], ["100,100", "150,50", "100,100", "100,100",
                                                    "100,100"]), RECORDS[1]])
    sheet, calls = lt.read_samplesheet(sheet_path), lt.read_calls(sheet_path)
    content = sample_tumour_content(calls, sheet).set_index("sample_id")
    states = lesion_states(calls, sheet)
    drivers = states[states["is_driver"]].set_index("sample_id")
    for sample, row in drivers.iterrows():
        assert content.loc[sample, "tumour_content"] == pytest.approx(row["tumour_content"])
        assert content.loc[sample, "tumour_content_source"] == row["tumour_content_source"]
    assert content.loc["P1_L2", "tumour_content"] == pytest.approx(0.5)  # 2 x 50/200
    assert content.loc["P1_L3", "tumour_content_source"] == "purity column"
    empty = sample_tumour_content(empty_calls_table(), sheet).set_index("sample_id")
    assert len(empty) == 5 and empty.loc["P1_L3", "tumour_content"] == 0.4  # the sheet's
    others = empty.drop(index="P1_L3")
    assert all(math.isnan(v) for v in others["tumour_content"])
    assert set(others["tumour_content_source"]) == {""}


def test_a_lesion_biopsied_when_stable_and_again_when_progressing_is_progressive():
    """The roster of the roads takes each lesion's status at its current date, not from its
    first row (L1 stable in 2019, progressive in 2021)."""
    from scenarios import V654A, W557, call, table

    from lesiontrack import lesion_states
    from lesiontrack.roads import lesion_roster

    rows = [call("P", "L1", "controlled", W557, 60, 150, sample="L1a"),
            call("P", "L1", "controlled", V654A, 0, 300, sample="L1a"),
            call("P", "L1", "progressive", W557, 70, 160, sample="L1b"),
            call("P", "L1", "progressive", V654A, 40, 160, sample="L1b"),
            call("P", "L2", "controlled", W557, 70, 160)]
    calls = table(rows)
    calls["date"] = ["2019-03-01", "2019-03-01", "2021-05-10", "2021-05-10", "2021-05-10"]
    roster = lesion_roster(calls, None, lesion_states(calls)).set_index("lesion_id")
    assert roster.loc["L1", "status"] == "progressive"
    assert roster.loc["L2", "status"] == "controlled"
