"""Property-based tests (hypothesis): reading round-trips, and invariances of the origin calls.

Each property runs a modest number of examples (``max_examples`` 30-60, no deadline) so that the
suite stays quick; ``LESIONTRACK_PROPERTY_EXAMPLES`` raises the count for a long local run.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path

import pandas as pd
import pysam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenarios import D816V, D842V, INTRONIC, V654A, W557, call, table

import lesiontrack as lt
from lesiontrack import genome
from lesiontrack.compare import classify
from lesiontrack.options import Thresholds
from lesiontrack.patterns import lesion_table, patient_patterns

EXAMPLES = int(os.environ.get("LESIONTRACK_PROPERTY_EXAMPLES", "0"))


def _settings(default: int):
    return settings(max_examples=EXAMPLES or default, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


KIT = genome.transcripts("GRCh38")["KIT"]
BASES = "ACGT"
MUTECT2_HEADER = (
    "##fileformat=VCFv4.2\n"
    '##FILTER=<ID=PASS,Description="All filters passed">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt '
    'alleles in the order listed">\n'
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles in '
    'the tumor">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "##MutectVersion=2.2\n"
    "##contig=<ID=chr4,length=190214555>\n"
    "##tumor_sample=T1\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\tT2\n"
)


# ---- 1. Mutect2-style records round-trip through read_calls --------------------------------


@st.composite
def alleles(draw) -> tuple[str, list[str], list[str]]:
    """(REF, ALTs, expected minimal (ref, alt, position offset) keys) of one record: an SNV
    (sometimes multi-allelic), a deletion or an insertion of 1-12 bases. The anchor base differs
    from the indel's last base, so that the minimal form is unambiguous."""
    kind = draw(st.sampled_from(["snv", "snv", "del", "ins"]))
    if kind == "snv":
        ref = draw(st.sampled_from(BASES))
        alts = draw(st.lists(st.sampled_from([b for b in BASES if b != ref]), min_size=1,
                             max_size=2, unique=True))
        return ref, alts, [f"0:{ref}>{a}" for a in alts]
    seq = draw(st.text(BASES, min_size=1, max_size=12))
    anchor = draw(st.sampled_from([b for b in BASES if b != seq[-1]]))
    if kind == "del":
        return anchor + seq, [anchor], [f"1:{seq}>-"]
    return anchor, [anchor + seq], [f"0:->{seq}"]


@st.composite
def mutect2_files(draw):
    """Records at distinct KIT positions (at least 20 bases apart), with AD/AF/DP for two
    samples, in a random order; the file plain, bgzipped, or bgzipped with a tabix index."""
    slots = draw(st.lists(st.integers(0, (KIT.end - KIT.start - 30) // 20), min_size=1,
                          max_size=12, unique=True))
    records = []
    for slot in slots:
        pos = KIT.start + 20 * slot
        ref, alts, keys = draw(alleles())
        counts = {s: draw(st.lists(st.integers(0, 3000), min_size=len(alts) + 1,
                                   max_size=len(alts) + 1)) for s in ("T1", "T2")}
        records.append((pos, ref, alts, keys, counts))
    order = draw(st.permutations(range(len(records))))
    storage = draw(st.sampled_from(["plain", "bgzip", "tabix"]))
    return [records[i] for i in order], storage


def _sample_column(ad: list[int]) -> str:
    depth = sum(ad)
    af = ",".join(f"{a / depth:.4g}" if depth else "." for a in ad[1:])
    return f"0/1:{','.join(map(str, ad))}:{af}:{depth}"


def _write_vcf(folder: Path, records, storage: str) -> str:
    if storage == "tabix":
        records = sorted(records)
    lines = [
        f"chr4\t{pos}\t.\t{ref}\t{','.join(alts)}\t.\tPASS\t.\tGT:AD:AF:DP\t"
        f"{_sample_column(counts['T1'])}\t{_sample_column(counts['T2'])}\n"
        for pos, ref, alts, _, counts in records
    ]
    path = folder / "t.vcf"
    path.write_text(MUTECT2_HEADER + "".join(lines))
    if storage == "bgzip":
        pysam.tabix_compress(str(path), str(folder / "t.vcf.gz"), force=True)
        return "t.vcf.gz"
    if storage == "tabix":
        pysam.tabix_index(str(path), preset="vcf", force=True)
        return "t.vcf.gz"
    return "t.vcf"


def _expected_detected(alt: int, depth: int) -> bool | None:
    if depth < 20:
        return None
    return alt >= 3 and alt / depth >= 0.02


@_settings(40)
@given(mutect2_files())
def test_mutect2_records_round_trip(generated):
    records, storage = generated
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        name = _write_vcf(folder, records, storage)
        (folder / "sheet.tsv").write_text(
            "patient_id\tlesion_id\tsample_id\tstatus\tcalls\n"
            f"P\tL1\tT1\tPD\t{name}\nP\tL2\tT2\tSD\t{name}\n")
        calls = lt.read_calls(folder / "sheet.tsv")
    expected = {}
    for pos, _, _, keys, counts in records:
        for j, key in enumerate(keys):
            offset, change = key.split(":")
            ref, alt = change.split(">")
            for sample in ("T1", "T2"):
                ad = counts[sample]
                expected[(sample, f"4:{pos + int(offset)}:{ref}>{alt}")] = (ad[j + 1], sum(ad))
    got = {(r.sample_id, r.variant_key): r for r in calls.itertuples(index=False)}
    assert set(got) == set(expected)
    for key, (alt, depth) in expected.items():
        row = got[key]
        assert (row.alt_count, row.depth) == (alt, depth), key
        if depth:
            assert row.vaf == pytest.approx(alt / depth)
            assert row.caller_vaf == pytest.approx(alt / depth, rel=1e-3)
        else:
            assert math.isnan(row.vaf)
        want = _expected_detected(alt, depth)
        assert (None if pd.isna(row.detected) else bool(row.detected)) == want, key
        assert row.gene == "KIT" and row.caller == "mutect2"
        assert row.status == ("progressive" if key[0] == "T1" else "controlled")


# ---- a random cohort as a calls table -------------------------------------------------------

VARIANTS = [W557, V654A, D816V, INTRONIC, D842V]
STATUSES = ["progressive", "controlled", "unknown"]


@st.composite
def patients(draw, name: str) -> tuple[list[dict], list[dict]]:
    """(calls rows, sample-sheet rows) of one patient: an optional baseline, 1-4 lesions of 1-2
    samples, 1-4 variants each with or without a record per sample, counts random or unknown."""
    lesions = [("B", "baseline")] if draw(st.booleans()) else []
    lesions += [(f"L{i + 1}", draw(st.sampled_from(STATUSES)))
                for i in range(draw(st.integers(1, 4)))]
    variants = draw(st.lists(st.sampled_from(VARIANTS), min_size=1, max_size=4, unique=True))
    rows, sheet = [], []
    for lesion, status in lesions:
        for region in range(draw(st.integers(1, 2))):
            sample = f"{name}-{lesion}-{region}"
            sheet.append({"patient_id": name, "lesion_id": lesion, "sample_id": sample,
                          "role": "baseline" if status == "baseline" else "lesion",
                          "status": status})
            for variant in variants:
                if not draw(st.integers(0, 3)):
                    continue  # no record: not called in this sample
                depth = draw(st.none() | st.integers(0, 400))
                alt = None if depth is None else draw(st.none() | st.integers(0, depth))
                rows.append(call(name, lesion, status, variant, alt, depth, sample=sample))
    return rows, sheet


@st.composite
def cohorts(draw, min_patients: int = 1, max_patients: int = 4):
    rows, sheet = [], []
    for i in range(draw(st.integers(min_patients, max_patients))):
        more_rows, more_sheet = draw(patients(f"P{i}"))
        rows += more_rows
        sheet += more_sheet
    return rows, sheet


def frames(rows: list[dict], sheet: list[dict], thresholds: Thresholds | None = None):
    return table(rows, thresholds), pd.DataFrame.from_records(
        sheet, columns=["patient_id", "lesion_id", "sample_id", "role", "status"])


def origins(calls: pd.DataFrame, sheet: pd.DataFrame, thresholds=None) -> pd.DataFrame:
    return classify(calls, sheet, thresholds=thresholds).reset_index(drop=True)


# ---- 2. origins do not depend on the order of sheet rows, lesions or records ---------------


@_settings(30)
@given(cohorts(), st.randoms(use_true_random=False))
def test_origins_do_not_depend_on_row_order(cohort, rng):
    calls, sheet = frames(*cohort)
    expected = origins(calls, sheet)
    rows = list(range(len(calls)))
    rng.shuffle(rows)
    lines = list(range(len(sheet)))
    rng.shuffle(lines)
    got = origins(calls.iloc[rows].reset_index(drop=True),
                  sheet.iloc[lines].reset_index(drop=True))
    pd.testing.assert_frame_equal(got, expected)


@_settings(30)
@given(cohorts(max_patients=3), st.randoms(use_true_random=False))
def test_origins_do_not_depend_on_lesion_names_order(cohort, rng):
    """Renaming lesions so that their sort order changes permutes the lesion lists, nothing
    else: the origin, rule and flags of every mutation stay."""
    calls, sheet = frames(*cohort)
    names = sorted(set(sheet["lesion_id"]) - {"B"})
    shuffled = names[:]
    rng.shuffle(shuffled)
    rename = {old: f"X{new}" for old, new in zip(names, shuffled, strict=True)}
    renamed = origins(calls.replace({"lesion_id": rename}), sheet.replace({"lesion_id": rename}))
    expected = origins(calls, sheet)
    columns = ["patient_id", "variant_key", "origin", "rule"]
    pd.testing.assert_frame_equal(renamed[columns], expected[columns])
    # flags quote the evidence (lesion names): compare the rules and answers they name
    assert list(renamed["flags"].map(_flag_rules)) == list(expected["flags"].map(_flag_rules))

    def lesion_sets(frame, column, mapping=None):
        return [frozenset((mapping or {}).get(x, x) for x in value.split(",") if x)
                for value in frame[column]]

    for column in ("lesions_detected", "lesions_absent", "lesions_not_evaluable"):
        assert lesion_sets(renamed, column) == lesion_sets(expected, column, rename)


def _flag_rules(flags: str) -> list[str]:
    return re.findall(r"(?:^|; )(\w+=\w+) \(", flags)


# ---- 3. adding a patient changes no other patient's rows -----------------------------------


@_settings(30)
@given(cohorts(max_patients=3), patients("NEW"))
def test_adding_a_patient_changes_no_other_patient(cohort, newcomer):
    calls, sheet = frames(*cohort)
    more_calls, more_sheet = frames(cohort[0] + newcomer[0], cohort[1] + newcomer[1])
    before = origins(calls, sheet)
    after = origins(more_calls, more_sheet)
    kept = after[after["patient_id"] != "NEW"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before)
    if not before.empty:  # nor their lesions' rows and patterns in the statistics
        lesions_before = lesion_table(before, calls, sheet)
        lesions_after = lesion_table(after, more_calls, more_sheet)
        kept_lesions = lesions_after[lesions_after["patient_id"] != "NEW"]
        # rows, not dtypes: lesion_table without rows has a float64 'secondary' column
        assert kept_lesions.to_dict("records") == lesions_before.to_dict("records")
        by_patient = {p["patient_id"]: p for p in patient_patterns(lesions_after, after,
                                                                    more_calls)}
        for row in patient_patterns(lesions_before, before, calls):
            assert by_patient[row["patient_id"]] == row


def test_origins_without_rows_have_the_dtypes_of_origins_with_rows():
    """Regression: an empty origins table had ``pos`` of dtype object (int64 otherwise), so the
    rows of a cohort without detections did not concatenate or compare with those of another."""
    sheet = [{"patient_id": "P", "lesion_id": "L1", "sample_id": "s", "role": "lesion",
              "status": "progressive"}]
    full = origins(*frames([call("P", "L1", "progressive", D816V, 30, 100, sample="s")], sheet))
    none_detected = origins(*frames([call("P", "L1", "progressive", D816V, 0, 100, sample="s")],
                                    sheet))
    calls, samples = frames([], sheet)
    for empty in (none_detected, origins(calls, samples)):
        assert empty.empty and list(empty.columns) == list(full.columns)
        assert empty.dtypes.equals(full.dtypes)


# ---- 4. thresholds are monotone ------------------------------------------------------------


def _states(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, set[str]]]:
    out = {}
    for row in frame.itertuples(index=False):
        out[(row.patient_id, row.variant_key)] = {
            column: {x for x in getattr(row, column).split(",") if x}
            for column in ("lesions_detected", "lesions_absent", "lesions_not_evaluable")}
    return out


thresholds_values = st.tuples(st.integers(0, 200), st.integers(1, 60),
                              st.floats(0, 1, allow_nan=False))


@_settings(30)
@given(cohorts(), thresholds_values, st.integers(0, 60))
def test_raising_min_alt_never_makes_a_call_detected(cohort, values, more):
    min_depth, min_alt, min_vaf = values
    low = Thresholds(min_depth, min_alt, min_vaf)
    high = Thresholds(min_depth, min_alt + more, min_vaf)
    calls, sheet = frames(*cohort)
    args = calls["alt_count"], calls["depth"], calls["vaf"]
    before, after = low.detect(*args), high.detect(*args)
    assert not (after.fillna(False) & ~before.fillna(False)).any()
    # and through classify: no lesion detects at the higher threshold what it did not at the lower
    states_low, states_high = _states(origins(calls, sheet, low)), _states(origins(calls, sheet,
                                                                                   high))
    assert set(states_high) <= set(states_low)
    for key, state in states_high.items():
        assert state["lesions_detected"] <= states_low[key]["lesions_detected"]


@_settings(30)
@given(cohorts(), thresholds_values, st.integers(0, 300))
def test_raising_min_depth_never_makes_an_absent_lesion_detected(cohort, values, more):
    min_depth, min_alt, min_vaf = values
    low = Thresholds(min_depth, min_alt, min_vaf)
    high = Thresholds(min_depth + more, min_alt, min_vaf)
    calls, sheet = frames(*cohort)
    states_low = _states(origins(calls, sheet, low))
    states_high = _states(origins(calls, sheet, high))
    for key, state in states_high.items():
        absent_before = states_low.get(key, {}).get("lesions_absent", set())
        assert not (state["lesions_detected"] & absent_before), key
        assert state["lesions_detected"] <= states_low[key]["lesions_detected"]
