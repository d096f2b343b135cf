"""Real multi-region cohorts from ../shared/external-data (skipped when absent)."""

from __future__ import annotations

import pytest
from conftest import SHARED

from lesiontrack import build_calls, classify, test_clustering
from lesiontrack.samplesheet import read_meskit_clinical

MESKIT = SHARED / "external-data" / "meskit_crc_hz"


@pytest.fixture(scope="module")
def meskit():
    if not (MESKIT / "CRC_HZ.maf").exists():
        pytest.skip("shared MesKit CRC_HZ data not available")
    sheet = read_meskit_clinical(MESKIT / "CRC_HZ.clin.txt")
    sheet = sheet.assign(role="lesion", status_raw="unknown", site="", timepoint="",
                         vcf_sample="", calls="CRC_HZ.maf", calls_path=str(MESKIT / "CRC_HZ.maf"),
                         bam="", bam_path="", assembly="GRCh37",
                         line=range(2, len(sheet) + 2))
    calls = build_calls(sheet, sheet_path=MESKIT / "CRC_HZ.clin.txt", genes="all")
    return sheet, calls, classify(calls, sheet)


def test_meskit_multiregion_cohort_reads_every_sample(meskit):
    sheet, calls, _ = meskit
    assert set(calls["sample_id"]) <= set(sheet["sample_id"])
    assert calls["patient_id"].nunique() == 6
    # MesKit's VAF=0 rows are sites read without the allele: evaluable absences
    assert (calls["detected"] == False).sum() > 10_000  # noqa: E712


def test_meskit_origins_separate_truncal_from_private(meskit):
    _, calls, origins = meskit
    counts = origins.groupby(["patient_id", "origin"]).size().unstack(fill_value=0)
    assert (counts["primary"] > 0).all() and (counts["secondary"] > 0).all()
    assert set(origins["rule"]) <= {"sharing", "knowledge", "none"}
    # every primary-by-sharing mutation is detected in each of the patient's tumours
    shared = origins[(origins["rule"] == "sharing") & (origins["origin"] == "primary")]
    assert (shared["lesions_absent"] == "").all() and (shared["lesions_not_evaluable"] == "").all()
    result = test_clustering(origins, calls)
    assert result["n_lesions_tested"] == 0  # no progression status in MesKit's table
