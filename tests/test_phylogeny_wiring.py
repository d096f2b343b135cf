"""The lesion phylogeny wired in: the `phylogeny` command, `lt.phylogeny`, per-patient Jaccard
and private fraction in `stats --json`, the tree on the patient page (issue 18)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from Bio import Phylo
from conftest import FIXTURES

import lesiontrack as lt
from lesiontrack import phylo
from lesiontrack.cli import commands as report_cli
from lesiontrack.cli import main
from lesiontrack.report import figures, tree_figure

SHEET = FIXTURES / "samplesheet.tsv"
demo = pytest.mark.skipif(not SHEET.exists(), reason="demo fixtures not generated")

#: A written four-lesion cohort: (chrom, pos, ref, alt, gene, lesions carrying it).
TRUNK = [("4", 54727435, "AGTGGA", "-", "KIT", "L1 L2 L3 L4")] + [
    ("7", 1000 + i, "C", "T", f"GENEA{i}", "L1 L2 L3 L4") for i in range(3)]
MUTATIONS = TRUNK + [
    *(("7", 2000 + i, "C", "T", f"GENEB{i}", "L1 L2") for i in range(4)),
    *(("7", 3000 + i, "C", "T", f"GENEC{i}", "L3 L4") for i in range(4)),
    *(("7", 4000 + i, "G", "A", f"GENED{i}", "L1") for i in range(2)),
    ("4", 54733155, "A", "T", "KIT", "L1 L3"),  # KIT D816V on two separate branches
]
STATUS = {"L1": "progressive", "L2": "progressive", "L3": "controlled", "L4": "controlled"}


def write_cohort(folder: Path) -> Path:
    """P1: four lesions whose tree is ((L1, L2), (L3, L4)) with D816V acquired twice (L1, L3);
    P2: one lesion (skipped). Every site read at depth 200 in every lesion (absent = 0/200)."""
    (folder / "calls").mkdir(parents=True)
    sheet = ["patient_id\tlesion_id\tsample_id\trole\tstatus\tcalls"]
    lesions = [("P1", lesion) for lesion in STATUS] + [("P2", "L1")]
    for patient, lesion in lesions:
        sample = f"{patient}_{lesion}"
        status = STATUS[lesion] if patient == "P1" else "progressive"
        sheet.append(f"{patient}\t{lesion}\t{sample}\tlesion\t{status}\tcalls/{sample}.tsv")
        rows = ["sample\tchrom\tpos\tref\talt\talt_count\tdepth\tgene"]
        for chrom, pos, ref, alt, gene, where in MUTATIONS:
            count = 80 if lesion in where.split() else 0
            rows.append(f"{sample}\t{chrom}\t{pos}\t{ref}\t{alt}\t{count}\t200\t{gene}")
        (folder / "calls" / f"{sample}.tsv").write_text("\n".join(rows) + "\n")
    path = folder / "samplesheet.tsv"
    path.write_text("\n".join(sheet) + "\n")
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def clades(newick_path: Path) -> set[frozenset[str]]:
    tree = Phylo.read(str(newick_path), "newick")
    return {frozenset(t.name for t in c.get_terminals()) for c in tree.find_clades()
            if not c.is_terminal()}


def test_lt_phylogeny_is_the_function_and_no_submodule_shares_its_name():
    assert lt.phylogeny is phylo.phylogeny and lt.write_phylogeny is phylo.write_phylogeny
    assert callable(lt.phylogeny) and "phylogeny" in lt.__all__
    assert not (Path(lt.__file__).parent / "phylogeny.py").exists()


def test_the_command_on_a_written_cohort(capsys, tmp_path):
    sheet = write_cohort(tmp_path / "in")
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "phylogeny", sheet, "--genes", "all", "--assembly", "GRCh38",
                            "-o", out)
    assert code == 0 and stdout == ""
    assert err.splitlines() == [f"lesiontrack: wrote 1 lesion tree, mutations.tsv and "
                                f"phylogeny.json into {out}; 1 patient with one lesion skipped"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "mutations.tsv", "phylogeny.json", "trees/P1.nwk"]
    found = clades(out / "trees" / "P1.nwk")
    assert {frozenset({"L1", "L2"}), frozenset({"L3", "L4"})} <= found
    tree = Phylo.read(str(out / "trees" / "P1.nwk"), "newick")
    assert tree.root.name == "germline"
    assert tree.root.clades[0].branch_length == len(TRUNK)  # the trunk carries 4 mutations
    table = pd.read_csv(out / "mutations.tsv", sep="\t", dtype=str).set_index("variant_key")
    assert list(table.columns[:4]) == ["patient_id", "branch", "lesions", "presence"]
    assert (table.loc["7:2000:C>T", ["branch", "lesions"]] == ["shared", "L1,L2"]).all()
    assert table.loc["7:4000:G>A", "branch"] == "private"
    assert table.loc["4:54733155:A>T", "convergent"] == "True"
    assert table.loc["4:54733155:A>T", "presence"] == "shared"
    assert (table.loc[table["gene"].str.startswith("GENEA"), "branch"] == "trunk").all()
    payload = json.loads((out / "phylogeny.json").read_text())
    assert payload["skipped"] == {"P2": "1 lesion (a tree needs two)"}
    assert payload["patients"]["P1"]["method"] == "exact"
    assert payload["patients"]["P1"]["newick_file"] == "trees/P1.nwk"


def test_calls_tables_give_the_same_trees(capsys, tmp_path):
    sheet = write_cohort(tmp_path / "in")
    code, _, _ = run(capsys, "-q", "calls", sheet, "--genes", "all", "--assembly", "GRCh38",
                     "-o", tmp_path / "calls.tsv")
    assert code == 0
    run(capsys, "-q", "phylogeny", sheet, "--genes", "all", "--assembly", "GRCh38", "-o",
        tmp_path / "a")
    code, _, err = run(capsys, "-q", "phylogeny", "--calls", tmp_path / "calls.tsv", "-o",
                       tmp_path / "b")
    assert code == 0 and err == ""
    for name in ("trees/P1.nwk", "mutations.tsv", "phylogeny.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@demo
def test_a_kit_only_tree_says_it_is_unresolved(tmp_path):
    assert main(["-q", "report", str(SHEET), "-o", str(tmp_path / "r"), "--permutations",
                 "10"]) == 0
    page = (tmp_path / "r" / "patients" / "GIST01.html").read_text()
    text = " ".join(page.split())
    assert "1 on the trunk, 0 on shared branches, 1 private" in text
    assert "how these lesions split is unresolved" in text
    assert (tmp_path / "r" / "phylogeny" / "trees" / "GIST01.nwk").exists()
    assert 'href="../phylogeny/trees/GIST01.nwk"' in page


@demo
def test_the_command_on_the_demo_cohort(capsys, tmp_path):
    out = tmp_path / "trees"
    code, _, err = run(capsys, "phylogeny", SHEET, "-o", out)
    assert code == 0 and len(err.splitlines()) == 1 and "lesion trees" in err
    newicks = sorted((out / "trees").glob("*.nwk"))
    assert [p.stem for p in newicks][:2] == ["GIST01", "GIST02"]
    for path in newicks:
        tree = Phylo.read(str(path), "newick")
        assert tree.root.name == "germline" and tree.count_terminals() >= 2
    table = pd.read_csv(out / "mutations.tsv", sep="\t")
    v654a = table[(table["patient_id"] == "GIST01") & (table["variant_key"] == "4:54728092:T>C")]
    assert v654a[["branch", "lesions", "origin"]].values.tolist() == [
        ["private", "L1", "secondary"]]


def test_a_non_empty_outdir_is_refused_unless_forced(capsys, tmp_path):
    sheet = write_cohort(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    argv = ["phylogeny", sheet, "--genes", "all", "--assembly", "GRCh38", "-o", out]
    code, _, err = run(capsys, *argv)
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("lesiontrack: error:") and "not empty" in err and "--force" in err
    assert (out / "keep.txt").read_text() == "mine"
    code, _, _ = run(capsys, "-q", *argv, "--force")
    assert code == 0 and not (out / "keep.txt").exists() and (out / "trees" / "P1.nwk").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_folder_holding_an_input_is_never_written(capsys, tmp_path):
    sheet = write_cohort(tmp_path / "in")
    before = sorted(p.name for p in (tmp_path / "in").rglob("*"))
    code, _, err = run(capsys, "phylogeny", sheet, "--genes", "all", "--assembly", "GRCh38",
                       "-o", tmp_path / "in" / "calls", "--force")
    assert code == 2 and "holds an input file" in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "in").rglob("*")) == before


def test_a_link_to_the_inputs_folder_is_refused_too(capsys, tmp_path):
    sheet = write_cohort(tmp_path / "in")
    (tmp_path / "link").symlink_to(tmp_path / "in")
    before = {p.name: p.read_bytes() for p in (tmp_path / "in").rglob("*") if p.is_file()}
    code, _, err = run(capsys, "phylogeny", sheet, "--genes", "all", "--assembly", "GRCh38",
                       "-o", tmp_path / "link", "--force")
    assert code == 2 and "input file" in err and len(err.splitlines()) == 1
    assert {p.name: p.read_bytes() for p in (tmp_path / "in").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("case", ["no_build", "missing_file", "bad_calls_table"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(capsys, tmp_path, case):
    sheet = write_cohort(tmp_path / "in")
    argv = ["phylogeny", sheet, "--genes", "all", "--assembly", "GRCh38"]
    if case == "no_build":
        argv = ["phylogeny", sheet, "--genes", "all"]
        expect = "cannot tell the genome build"
    elif case == "missing_file":
        (tmp_path / "in" / "calls" / "P1_L3.tsv").unlink()
        expect = "P1_L3.tsv"
    else:
        (tmp_path / "bad.tsv").write_text("patient_id\tlesion_id\n P1\tL1\n")
        argv = ["phylogeny", "--calls", tmp_path / "bad.tsv"]
        expect = "bad.tsv"
    code, _, err = run(capsys, *argv, "-o", tmp_path / "out")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("lesiontrack: error: ")
    assert expect in err
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_help_names_the_outputs(capsys):
    with pytest.raises(SystemExit) as done:
        main(["phylogeny", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for word in ("trees/<patient>.nwk", "mutations.tsv", "phylogeny.json", "--calls",
                 "--genes", "--error-rate", "--min-power", "--seed", "--force", "--all-dates"):
        assert word in " ".join(text.split()), word


def test_stats_json_has_jaccard_and_private_fraction_per_patient(capsys, tmp_path):
    sheet = write_cohort(tmp_path / "in")
    code, out, _ = run(capsys, "stats", sheet, "--genes", "all", "--assembly", "GRCh38",
                       "--json", "--permutations", "100")
    assert code == 0
    patients = {p["patient_id"]: p for p in json.loads(out)["patients"]}
    p1 = patients["P1"]
    pairs = {(j["lesion_a"], j["lesion_b"]): j for j in p1["jaccard"]}
    assert len(pairs) == 6
    # L1 and L2 share the 4 trunk + 4 shared mutations; L1 has 3 more (2 private + D816V)
    assert pairs[("L1", "L2")] == {"lesion_a": "L1", "lesion_b": "L2",
                                   "jaccard": round(8 / 11, 4), "n_evaluable": 15}
    assert pairs[("L1", "L3")]["jaccard"] == round(5 / 15, 4)  # trunk + D816V; 11 + 9 - 5
    # L1's decidable mutations: 11, of which 2 private (D816V is also in L3)
    assert p1["private_fraction"] == {"L1": round(2 / 11, 4), "L2": 0.0, "L3": 0.0,
                                      "L4": 0.0}
    assert patients["P2"]["jaccard"] == [] and patients["P2"]["private_fraction"] == {}


def test_stats_reuse_the_engine_values(tmp_path):
    sheet_path = write_cohort(tmp_path / "in")
    sheet = lt.read_samplesheet(sheet_path)
    calls = lt.build_calls(sheet, sheet_path=sheet_path, genes="all", assembly="GRCh38")
    origins = lt.classify(calls, sheet)
    stats = lt.test_clustering(origins, calls, samples=sheet, permutations=50)
    entry = next(p for p in stats["patients"] if p["patient_id"] == "P1")
    tree = lt.phylogeny(calls, origins, sheet).patients["P1"].to_dict()
    assert entry["jaccard"] == tree["jaccard"]
    assert entry["private_fraction"] == tree["private_fraction"]


def _report(tmp_path: Path, table: Path, name: str) -> dict[str, bytes]:
    out = tmp_path / name
    assert main(["-q", "report", "--calls", str(table), "-o", str(out), "--permutations",
                 "100"]) == 0
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "provenance.json"}


def test_the_report_shows_the_tree_and_is_the_same_for_every_batch(capsys, tmp_path,
                                                                   monkeypatch):
    sheet = write_cohort(tmp_path / "in")
    code, _, _ = run(capsys, "-q", "calls", sheet, "--genes", "all", "--assembly", "GRCh38",
                     "-o", tmp_path / "calls.tsv")
    assert code == 0
    calls = pd.read_csv(tmp_path / "calls.tsv", sep="\t", dtype=str, keep_default_na=False)
    copy = calls[calls["patient_id"] == "P1"].assign(patient_id="P10")
    copy["sample_id"] = copy["sample_id"].str.replace("P1_", "P10_", regex=False)
    pd.concat([calls, copy]).to_csv(tmp_path / "cohort.tsv", sep="\t", index=False)
    whole = _report(tmp_path, tmp_path / "cohort.tsv", "whole")
    monkeypatch.setattr(report_cli, "BATCH_PATIENTS", 1)
    assert _report(tmp_path, tmp_path / "cohort.tsv", "batched") == whole
    page = whole["patients/P1.html"].decode()
    assert '<h2 id="tree">Lesion tree</h2>' in page and '<svg class="lesion-tree"' in page
    svg = page[page.index('<svg class="lesion-tree"'):]
    svg = svg[:svg.index("</svg>")]
    # leaves coloured by status; D816V marked on its branches, flagged convergent
    assert svg.count(f'stroke="{figures.STATUS_COLOURS["progressive"]}"') == 2
    assert svg.count(f'stroke="{figures.STATUS_COLOURS["controlled"]}"') == 2
    assert "KIT p.D816V" in svg and "convergent" in svg
    assert f'stroke="{tree_figure.CONVERGENT_COLOUR}"' in svg
    assert '<svg class="jaccard"' in page and '<svg class="private-fraction"' in page
    assert "Convergent: KIT activation loop" in page
    assert "how these lesions split is unresolved" not in page  # two shared branches
    assert '<svg class="lesion-tree"' not in whole["patients/P2.html"].decode()  # one lesion
    stats = json.loads(whole["stats.json"])
    entry = next(p for p in stats["patients"] if p["patient_id"] == "P10")
    assert entry["private_fraction"]["L1"] == round(2 / 11, 4)
    # the report's phylogeny/ folder holds exactly what the phylogeny command writes
    code, _, _ = run(capsys, "-q", "phylogeny", "--calls", tmp_path / "cohort.tsv", "-o",
                     tmp_path / "command")
    assert code == 0
    command = {str(p.relative_to(tmp_path / "command")): p.read_bytes()
               for p in sorted((tmp_path / "command").rglob("*")) if p.is_file()}
    assert sorted(command) == ["mutations.tsv", "phylogeny.json", "trees/P1.nwk",
                               "trees/P10.nwk"]
    assert {k[len("phylogeny/"):]: v for k, v in whole.items()
            if k.startswith("phylogeny/")} == command
    assert json.loads(command["phylogeny.json"])["skipped"] == {
        "P2": "1 lesion (a tree needs two)"}


def test_the_compact_heatmap_is_headed_by_branch_in_order():
    lesions = [figures.HeatLesion("L1", "progressive"), figures.HeatLesion("L2", "controlled")]
    rows = [("primary", "++"), ("secondary", "++"), ("secondary", "+-"), ("secondary", "+-")]
    svg = figures.mutation_heatmap_svg(lesions, rows,
                                       groups=["trunk", "trunk", "private", "private"])
    heads = re.findall(r'class="g-head">([^<]*)</text>', svg)
    assert heads == ["trunk: 2", "private: 2"]
    # without groups: headed by origin, as before
    heads = re.findall(r'class="g-head">([^<]*)</text>',
                       figures.mutation_heatmap_svg(lesions, rows))
    assert heads == ["primary: 1", "secondary: 3"]


def test_the_tree_figure_escapes_names_and_counts_marks_beyond_three():
    marks = [tree_figure.TreeMark(f"<b>M{i}", "secondary", False) for i in range(5)]
    root = tree_figure.TreeNode(length=7, children=[
        tree_figure.TreeNode(length=5, name="<L1>", status="progressive", marks=marks),
        tree_figure.TreeNode(length=0, name="L2", status="controlled")])
    svg = str(tree_figure.lesion_tree_svg(root, method="exact"))
    assert "<L1>" not in svg and "&lt;L1&gt;" in svg and "<b>" not in svg
    assert "+2" in svg  # three names shown, two counted
    assert 'stroke-dasharray="3 3"' in svg  # an empty branch is dashed
    assert ">7</text>" in svg  # the trunk's count


def test_stats_of_single_lesion_patients_skip_the_trees(monkeypatch):
    calls = pd.read_csv(io.StringIO(
        "patient_id\tlesion_id\tsample_id\trole\tstatus\tvariant_key\tgene\texon\talt_count\t"
        "depth\tvaf\tdetected\n"
        "P1\tL1\tS1\tlesion\tprogressive\t4:54733155:A>T\tKIT\t17\t50\t200\t0.25\tTrue\n"),
        sep="\t")
    called = []
    monkeypatch.setattr(phylo, "infer_tree", lambda *a, **k: called.append(a))
    assert phylo.heterogeneity(calls) == {}
    assert phylo.phylogeny(calls).skipped == {"P1": "1 lesion (a tree needs two)"}
    assert called == []
