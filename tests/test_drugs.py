"""Drug activity as sourced data: drugs.tsv against the fact sheet, and the loader's matching."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from lesiontrack.genome import drugs
from lesiontrack.genome.drugs import (
    DRUGS,
    activity_json,
    activity_string,
    drug_activity,
    drug_sources,
    drug_table,
    parse_activity_string,
)

REPO = Path(__file__).resolve().parent.parent
SHARED = next((p / "shared" / "kit-reference" for p in REPO.parents
               if (p / "shared" / "kit-reference" / "drugs.md").is_file()), None)
needs_shared = pytest.mark.skipif(SHARED is None, reason="../shared/kit-reference is absent")


def _script():
    spec = importlib.util.spec_from_file_location(
        "build_genome_data", REPO / "scripts" / "build_genome_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sheet_table() -> dict[str, dict[str, str]]:
    """The "Activity by class" table of drugs.md, parsed here on its own: class -> drug -> cell."""
    text = (SHARED / "drugs.md").read_text(encoding="utf-8")
    section = text.split("## Activity by class", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("|")]
    header = [h.lower() for h in rows[0]]
    assert header[1:] == list(DRUGS)
    return {row[0]: dict(zip(DRUGS, row[1:], strict=True)) for row in rows[2:]}


# the sheet's own words -> activity classes (drugs.md: "Words to activity classes")
SHEET_WORDS = {"not established": "unknown", "active": "sensitive", "potent": "sensitive",
               "inhibits": "sensitive", "approved": "sensitive", "sensitive": "sensitive",
               "weak": "reduced", "higher dose": "reduced", "inferior": "reduced",
               "reduced": "reduced", "resistant": "resistant"}


def _first_word_class(words: str) -> str:
    hits = [(m.start(), cls) for word, cls in SHEET_WORDS.items()
            for m in re.finditer(rf"\b{word}\b", words, re.I)]
    return min(hits)[1]


# ---- the package's table against the fact sheet ------------------------------------------------

@needs_shared
def test_every_row_of_drugs_tsv_follows_the_fact_sheet():
    sheet = _sheet_table()
    table = drug_table()
    assert len(table) > 0
    sources = drug_sources()
    for record in table.to_dict("records"):
        row = SimpleNamespace(**{k.replace("class", "cls"): v for k, v in record.items()})
        where = f"{row.gene} {row.protein_change or row.codon_first} {row.drug}"
        assert row.drug in DRUGS, where
        cell = sheet[row.cls][row.drug].replace("**", "")
        assert row.evidence in cell, where  # the words quoted are the sheet's words
        assert row.activity == _first_word_class(row.evidence), where
        if row.activity == "unknown":
            assert "not established" in row.evidence, where
            assert (row.grade, row.in_vitro, row.sources) == ("", "", ""), where
        else:
            assert f"({row.grade}" in row.evidence, where
            assert row.sources and all(s in sources for s in row.sources.split(";")), where
            assert (row.in_vitro != "") == ("in vitro" in row.evidence), where
    # every class of the sheet has rows, and every site has all five drugs
    assert set(table["class"]) == set(sheet)
    per_site = table.groupby(["gene", "codon_first", "codon_last", "protein_change"])["drug"]
    assert all(sorted(v) == sorted(DRUGS) for v in per_site.apply(list))


@needs_shared
def test_the_script_remakes_the_package_files_byte_for_byte():
    script = _script()
    data = REPO / "lesiontrack" / "genome" / "data"
    assert script.build_drugs(SHARED) == (data / "drugs.tsv").read_text(encoding="utf-8")
    assert script.build_drug_sources(SHARED) == (
        data / "drug_sources.tsv").read_text(encoding="utf-8")


def test_every_source_id_is_cited_in_the_data_readme():
    readme = (REPO / "lesiontrack" / "genome" / "data" / "README.md").read_text()
    ids = {s for value in drug_table()["sources"] for s in value.split(";") if s}
    assert ids
    for source in ids:
        assert re.search(rf"^- {source}: ", readme, re.M), source


# ---- calls pinned by hand from the sheet ------------------------------------------------------

def _calls(gene, codon, hgvsp, consequence="missense"):
    found = drug_activity(gene, codon, hgvsp, consequence)
    assert found is not None
    return found


def test_d816_regorafenib_is_unknown_never_active():
    for hgvsp in ("p.D816V", "p.D816H", "p.D816Y"):
        call = _calls("KIT", 816, hgvsp).calls["regorafenib"]
        assert (call.activity, call.grade, call.sources) == ("unknown", None, ())


def test_d816v_is_matched_before_the_codon_row():
    v = _calls("KIT", 816, "p.D816V")
    h = _calls("KIT", 816, "p.D816H")
    assert (v.site, h.site) == ("p.D816V", "codon 816")
    assert v.calls["avapritinib"].activity == "sensitive"
    assert v.calls["avapritinib"].grade == "B"
    assert v.calls["avapritinib"].in_vitro == "in vitro only"
    assert h.calls["avapritinib"].activity == "unknown"
    # three-letter and parenthesised names find the same row
    assert _calls("KIT", 816, "p.(Asp816Val)").site == "p.D816V"


@pytest.mark.parametrize(("gene", "codon", "hgvsp", "consequence", "region", "expected"), [
    # juxtamembrane: KIT exon 11 primary, any protein-altering change of the exon
    ("KIT", 557, "p.W557_K558del", "inframe_deletion", "juxtamembrane domain",
     "imatinib=sensitive;sunitinib=sensitive;regorafenib=unknown;ripretinib=sensitive;"
     "avapritinib=unknown"),
    ("KIT", 550, "", "splice_acceptor", "juxtamembrane domain",
     "imatinib=sensitive;sunitinib=sensitive;regorafenib=unknown;ripretinib=sensitive;"
     "avapritinib=unknown"),
    # extracellular: KIT exon 9 (imatinib needs 800 mg: reduced)
    ("KIT", 502, "p.A502_Y503dup", "inframe_insertion", "extracellular domain",
     "imatinib=reduced;sunitinib=sensitive;regorafenib=unknown;ripretinib=unknown;"
     "avapritinib=unknown"),
    # K642E as a primary: the row applies to the change
    ("KIT", 642, "p.K642E", "missense", "kinase domain",
     "imatinib=sensitive;sunitinib=unknown;regorafenib=unknown;ripretinib=unknown;"
     "avapritinib=unknown"),
    # ATP-binding pocket
    ("KIT", 654, "p.V654A", "missense", "ATP-binding pocket",
     "imatinib=resistant;sunitinib=sensitive;regorafenib=reduced;ripretinib=reduced;"
     "avapritinib=unknown"),
    ("KIT", 670, "p.T670I", "missense", "ATP-binding pocket",
     "imatinib=resistant;sunitinib=sensitive;regorafenib=reduced;ripretinib=reduced;"
     "avapritinib=unknown"),
    # activation loop (N822K also occurs as a primary: same row)
    ("KIT", 822, "p.N822K", "missense", "activation loop",
     "imatinib=resistant;sunitinib=resistant;regorafenib=sensitive;ripretinib=sensitive;"
     "avapritinib=unknown"),
    ("KIT", 820, "p.D820Y", "missense", "activation loop",
     "imatinib=resistant;sunitinib=resistant;regorafenib=sensitive;ripretinib=sensitive;"
     "avapritinib=unknown"),
    ("KIT", 829, "p.A829P", "missense", "activation loop",
     "imatinib=resistant;sunitinib=resistant;regorafenib=sensitive;ripretinib=sensitive;"
     "avapritinib=unknown"),
    ("KIT", 816, "p.D816V", "missense", "activation loop",
     "imatinib=resistant;sunitinib=resistant;regorafenib=unknown;ripretinib=sensitive;"
     "avapritinib=sensitive"),
    # PDGFRA
    ("PDGFRA", 842, "p.D842V", "missense", "activation loop",
     "imatinib=resistant;sunitinib=resistant;regorafenib=resistant;ripretinib=sensitive;"
     "avapritinib=sensitive"),
    ("PDGFRA", 561, "p.V561D", "missense", "juxtamembrane domain",
     "imatinib=sensitive;sunitinib=unknown;regorafenib=unknown;ripretinib=unknown;"
     "avapritinib=unknown"),
])
def test_activity_per_region(gene, codon, hgvsp, consequence, region, expected):
    found = _calls(gene, codon, hgvsp, consequence)
    assert found.region == region
    assert activity_string(found) == expected


@pytest.mark.parametrize(("drug", "sensitive_at", "not_sensitive_at"), [
    ("imatinib", ("KIT", 559, "p.V559D"), ("KIT", 654, "p.V654A")),
    ("sunitinib", ("KIT", 654, "p.V654A"), ("KIT", 816, "p.D816V")),
    ("regorafenib", ("KIT", 822, "p.N822K"), ("KIT", 654, "p.V654A")),
    ("ripretinib", ("KIT", 816, "p.D816V"), ("KIT", 670, "p.T670I")),
    ("avapritinib", ("PDGFRA", 842, "p.D842V"), ("KIT", 823, "p.Y823D")),
])
def test_each_drug_class_has_a_sensitive_and_a_not_sensitive_site(
        drug, sensitive_at, not_sensitive_at):
    assert _calls(*sensitive_at).calls[drug].activity == "sensitive"
    assert _calls(*not_sensitive_at).calls[drug].activity != "sensitive"


def test_a_codon_row_takes_only_its_codon():
    assert drug_activity("KIT", 815, "p.S815N", "missense") is None
    assert drug_activity("KIT", 817, "p.I817V", "missense") is None
    assert drug_activity("KIT", 654, "p.V654A", "missense").site == "codon 654"
    # a named change does not match another change at its codon
    assert drug_activity("KIT", 642, "p.K642Q", "missense") is None
    assert drug_activity("PDGFRA", 842, "p.D842Y", "missense") is None
    assert drug_activity("NRAS", 12, "p.G12D", "missense") is None


@pytest.mark.parametrize(("codon", "hgvsp", "consequence"), [
    (816, "p.D816=", "synonymous"),
    (654, "p.V654=", "synonymous"),
    (None, "", "intronic"),
    (816, "p.D816V", "unknown"),  # consequence not known: no claim
    (816, "p.D816V", None),
    (816, "", "UTR"),
    (816, "p.D816V", "splice_region"),
])
def test_no_activity_for_a_change_not_known_to_alter_the_protein(codon, hgvsp, consequence):
    assert drug_activity("KIT", codon, hgvsp, consequence) is None


def test_codon_from_the_protein_name_when_not_given():
    assert drug_activity("KIT", None, "p.V654A", "missense").site == "codon 654"
    assert drug_activity("KIT", None, "", "missense") is None


def test_formats_for_tsv_graphml_and_json():
    found = _calls("KIT", 654, "p.V654A")
    text = activity_string(found)
    assert text == ("imatinib=resistant;sunitinib=sensitive;regorafenib=reduced;"
                    "ripretinib=reduced;avapritinib=unknown")
    assert parse_activity_string(text) == {d: c.activity for d, c in found.calls.items()}
    assert activity_string(None) == "" and parse_activity_string("") == {}
    as_json = activity_json(found)
    assert list(as_json) == list(DRUGS)
    assert as_json["sunitinib"] == {"activity": "sensitive", "grade": "A", "in_vitro": None,
                                    "sources": ["D1", "D4"]}
    assert as_json["ripretinib"]["in_vitro"] == "in vitro and clinical"
    assert as_json["avapritinib"] == {"activity": "unknown", "grade": None, "in_vitro": None,
                                      "sources": []}
    assert activity_json(None) is None
    with pytest.raises(ValueError, match="drug=activity"):
        parse_activity_string("imatinib=works")


def test_activity_follows_the_packages_protein_altering_set():
    from lesiontrack import genome

    for consequence in (*sorted(genome.CONSEQUENCES), "", None):
        found = drug_activity("KIT", 816, "p.D816V", consequence)
        assert (found is not None) == (genome.is_protein_altering(consequence) is True), (
            consequence)


def test_the_readme_table_says_what_drugs_tsv_says():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Drug activity and heterogeneity", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| ")][1:]
    examples = {  # README row -> a change it speaks of
        "KIT exon 11": ("KIT", 559, "p.V559D"), "KIT exon 9": ("KIT", 502, "p.A502_Y503dup"),
        "KIT p.K642E": ("KIT", 642, "p.K642E"), "KIT V654, T670": ("KIT", 670, "p.T670I"),
        "KIT D816 (not V)": ("KIT", 816, "p.D816H"), "KIT p.D816V": ("KIT", 816, "p.D816V"),
        "KIT D820, N822": ("KIT", 822, "p.N822K"), "PDGFRA p.D842V": ("PDGFRA", 842, "p.D842V"),
        "PDGFRA p.V561D": ("PDGFRA", 561, "p.V561D"),
    }
    assert len(rows) == len(examples)
    for row in rows:
        key = next(k for k in examples if row[0].startswith(k))
        found = _calls(*examples[key], "inframe_insertion" if "dup" in examples[key][2]
                       else "missense")
        for drug, cell in zip(DRUGS, row[2:], strict=True):
            call = found.calls[drug]
            words = cell.replace(",", " ").split()
            assert words[0] == call.activity, (key, drug)
            assert (call.grade or None) == (words[1] if len(words) > 1 else None), (key, drug)
            assert (call.in_vitro == "in vitro only") == ("in vitro only" in cell), (key, drug)


def test_drug_columns_add_region_and_activity_string():
    import pandas as pd

    frame = pd.DataFrame({
        "gene": ["KIT", "KIT", "KIT", None],
        "codon": pd.array([654, 816, 816, None], dtype="Int64"),
        "hgvsp": ["p.V654A", "p.D816=", "p.D816V", ""],
        "consequence": ["missense", "synonymous", "missense", "intronic"],
    })
    out = drugs.drug_columns(frame)
    assert list(out["region"]) == ["ATP-binding pocket", "", "activation loop", ""]
    assert out["drug_activity"][0].startswith("imatinib=resistant;sunitinib=sensitive;")
    assert list(out["drug_activity"][1:]) == [
        "", "imatinib=resistant;sunitinib=resistant;regorafenib=unknown;ripretinib=sensitive;"
            "avapritinib=sensitive", ""]
    assert "region" not in frame.columns  # a copy
    # without consequence (older tables): nothing is claimed
    assert set(drugs.drug_columns(frame.drop(columns="consequence"))["drug_activity"]) == {""}


@needs_shared
def test_the_script_refuses_a_sheet_it_cannot_map(tmp_path):
    script = _script()
    text = (SHARED / "drugs.md").read_text(encoding="utf-8")
    (tmp_path / "exons.tsv").write_bytes((SHARED / "exons.tsv").read_bytes())
    # a class row gone
    lines = [line for line in text.splitlines() if not line.startswith("| PDGFRA exon 12 V561D")]
    (tmp_path / "drugs.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="0 table rows start with 'PDGFRA exon 12 V561D'"):
        script.build_drugs(tmp_path)
    # sources reordered: the ids would cite the wrong papers
    first = next(line for line in text.splitlines() if line.startswith("- Heinrich MC"))
    moved = text.replace(first + "\n", "") + first + "\n"
    (tmp_path / "drugs.md").write_text(moved, encoding="utf-8")
    with pytest.raises(SystemExit, match="source D1"):
        script.build_drug_sources(tmp_path)
    # a cell without any word of the mapping
    (tmp_path / "drugs.md").write_text(text.replace("| sensitive (B) |", "| fine (B) |"),
                                       encoding="utf-8")
    with pytest.raises(SystemExit, match="no activity word in 'fine \\(B\\)'"):
        script.build_drugs(tmp_path)
