"""Evidence of absence from the reads: the sample sheet's bam column feeds the calls table."""

from __future__ import annotations

import pytest
from bamtools import make_test_bam, variant_read

from lesiontrack import build_calls, classify, read_samplesheet
from lesiontrack.reference import Reference

D816V = (54733155, "A", "T")
MUTECT2 = """##fileformat=VCFv4.2
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##contig=<ID=chr4,length=190214555>
##normal_sample=N
##source=Mutect2
##tumor_sample={sample}
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}\tN
{records}"""
DELETION = "chr4\t54727434\t.\tCAGTGGA\tC\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:100,80:0.44:180\t0/0:90,0:0.01:90\n"
D816V_RECORD = "chr4\t54733155\t.\tA\tT\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:120,40:0.25:160\t0/0:80,0:0.01:80\n"


def write_vcf(path, sample, records):
    path.write_text(MUTECT2.format(sample=sample, records="".join(records)))
    return path


@pytest.fixture
def cohort(tmp_path, grch38_reference):
    """P1: L1 progressive carries the exon 11 deletion and D816V; L2 (controlled) the deletion."""
    write_vcf(tmp_path / "L1.vcf", "P1_L1", [DELETION, D816V_RECORD])
    write_vcf(tmp_path / "L2.vcf", "P1_L2", [DELETION])

    def sheet(l2_alt_reads: int | None, total: int = 150):
        bam_column = ""
        if l2_alt_reads is not None:
            ref = Reference(grch38_reference)
            reads = [variant_read(ref, f"r{i}", D816V[0] - 60 + i % 50,
                                  D816V if i < l2_alt_reads else None) for i in range(total)]
            reads.append(variant_read(ref, "dup", D816V[0] - 30, D816V, flag=1024))
            make_test_bam(tmp_path / "L2.bam", reads, sample="P1_L2")
            bam_column = "L2.bam"
        path = tmp_path / "sheet.tsv"
        path.write_text("patient_id\tlesion_id\tsample_id\tstatus\tcalls\tbam\n"
                        "P1\tL1\tP1_L1\tPD\tL1.vcf\t\n"
                        f"P1\tL2\tP1_L2\tSD\tL2.vcf\t{bam_column}\n")
        return path

    return sheet


def origin(calls, key="4:54733155:A>T"):
    row = classify(calls).set_index("variant_key").loc[key]
    return row["origin"], row["rule"], row["flags"]


def test_without_reads_the_other_lesion_is_not_evaluable(cohort):
    path = cohort(None)
    calls = build_calls(read_samplesheet(path), sheet_path=path)
    assert origin(calls)[:2] == ("secondary", "knowledge")


def test_reads_without_the_allele_make_the_mutation_secondary_by_sharing(cohort):
    path = cohort(0)
    calls = build_calls(read_samplesheet(path), sheet_path=path)
    row = calls[(calls["sample_id"] == "P1_L2") & (calls["variant_key"] == "4:54733155:A>T")]
    assert len(row) == 1
    row = row.iloc[0]
    assert (row["source"], row["caller"], int(row["depth"]), int(row["alt_count"])) == (
        "reads", "reads", 150, 0)  # the duplicate read is not counted
    assert bool(row["detected"]) is False
    assert row["hgvsc"] == "c.2447A>T"  # annotated like the caller's rows
    assert origin(calls) == ("secondary", "sharing", "")


def test_a_low_level_allele_found_only_in_the_reads_is_detected(cohort):
    path = cohort(5)
    calls = build_calls(read_samplesheet(path), sheet_path=path)
    row = calls[(calls["sample_id"] == "P1_L2") & (calls["variant_key"] == "4:54733155:A>T")]
    assert (int(row["alt_count"].iloc[0]), bool(row["detected"].iloc[0])) == (5, True)
    # now in both lesions, but subclonal (CCF ~0.56 in L1, 5/150 in L2): not truncal (issue
    # 13: truncal only if clonal where detected); the knowledge table decides
    origin_, rule, _ = origin(calls)
    assert (origin_, rule) == ("secondary", "knowledge")
    evidence = classify(calls).set_index("variant_key").loc["4:54733155:A>T", "evidence"]
    assert "present in every lesion but subclonal or low-level in L1" in evidence


def test_recount_replaces_caller_counts_by_read_counts(cohort, grch38_reference):
    path = cohort(0)
    sheet = read_samplesheet(path)
    kept = build_calls(sheet, sheet_path=path)
    recounted = build_calls(sheet, sheet_path=path, recount=True,
                            reference=grch38_reference)
    key = (recounted["sample_id"] == "P1_L2") & (recounted["variant_key"] == "4:54727435:AGTGGA>-")
    assert recounted.loc[key, "source"].item() == "reads"
    assert kept.loc[(kept["sample_id"] == "P1_L2")
                    & (kept["variant_key"] == "4:54727435:AGTGGA>-"), "source"].item() == "L2.vcf"


def test_a_bam_of_another_sample_is_refused(cohort, tmp_path):
    from lesiontrack import LesionTrackError

    path = cohort(0)
    text = path.read_text().replace("P1\tL2\tP1_L2", "P1\tL2\tOTHER").replace(
        "L2.vcf\tL2.bam", "L2.vcf\tL2.bam")
    (tmp_path / "L2.vcf").write_text((tmp_path / "L2.vcf").read_text().replace("P1_L2", "OTHER"))
    path.write_text(text)
    with pytest.raises(LesionTrackError, match="@RG SM"):
        build_calls(read_samplesheet(path), sheet_path=path)
