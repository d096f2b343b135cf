"""Outputs never destroy inputs, write failures are the user's environment, temporary names are
owned: every command that writes refuses an output that is an input (or a folder holding one),
a read-only or full disk is one error line (exit 2), temporary names carry the owning pid and a
dead process's leftovers are removed by the next run, a missing .fai is never built beside the
reference, and SIGTERM gives exactly one line."""

from __future__ import annotations

import contextlib
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, write_synthetic_reference

from lesiontrack import output
from lesiontrack.cli import main

# ----------------------------------------------------------------------------------------------
# a small cohort with every kind of input: the demo cohort (VCF + .tbi, MAF, BAM + .bai, patient
# table), a reference with its .fai, a precomputed calls table
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("template") / "cohort"
    shutil.copytree(FIXTURES, root)
    (root / "ref").mkdir()
    write_synthetic_reference(root / "ref" / "ref.fa")
    (root / "tables").mkdir()
    (root / "clinical").mkdir()
    (root / "patients.tsv").rename(root / "clinical" / "patients.tsv")
    assert main(["-q", "calls", str(root / "samplesheet.tsv"), "-o",
                 str(root / "tables" / "calls.tsv")]) == 0
    return root


@pytest.fixture
def cohort(template, tmp_path) -> Path:
    root = tmp_path / "cohort"
    shutil.copytree(template, root, symlinks=True)
    return root


#: input kind -> its path in the cohort
INPUTS = {
    "sample sheet": "samplesheet.tsv",
    "calls file": "vcf/GIST01.mutect2.vcf.gz",
    "calls file index": "vcf/GIST01.mutect2.vcf.gz.tbi",
    "MAF calls file": "maf/GIST05.vep.maf",
    "BAM": "bam/GIST02_L1.bam",
    "BAM index": "bam/GIST02_L1.bam.bai",
    "reference": "ref/ref.fa",
    "reference index": "ref/ref.fa.fai",
    "calls table": "tables/calls.tsv",
    "patient table": "clinical/patients.tsv",
}
FILE_COMMANDS = ["calls", "classify", "graph", "stats"]
FOLDER_COMMANDS = ["report", "outcomes"]


def argv(command: str, root: Path, out: Path) -> list[str]:
    sheet, ref = root / "samplesheet.tsv", root / "ref" / "ref.fa"
    if command == "calls":
        return ["calls", str(sheet), "--reference", str(ref), "-o", str(out)]
    tables = ["--calls", str(root / "tables" / "calls.tsv")]
    if command in FILE_COMMANDS:
        return [command, str(sheet), "--reference", str(ref), *tables, "-o", str(out)]
    return [command, str(sheet), "--reference", str(ref), *tables, "--patients",
            str(root / "clinical" / "patients.tsv"), "-o", str(out), "--force"]


def takes(command: str, kind: str) -> bool:
    if command == "calls":
        return kind not in ("calls table", "patient table")
    return kind != "patient table" or command in FOLDER_COMMANDS


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def one_error_line(capfd, code: int, *expect: str) -> str:
    _, err = capfd.readouterr()
    assert code == 2, err
    assert err.startswith("lesiontrack: error: ") and err.count("\n") == 1, err
    for text in expect:
        assert text in err, (text, err)
    return err


CASES = [(c, k) for c in FILE_COMMANDS + FOLDER_COMMANDS for k in INPUTS if takes(c, k)]


@pytest.mark.parametrize(("command", "kind"), CASES)
def test_an_output_that_is_an_input_is_refused(capfd, cohort, command, kind):
    """Each command x each input kind: an output file spelled as a link to the input (another
    folder), or an output folder holding it (--force included), is one error line naming both
    paths, and every input is byte for byte unchanged."""
    target = cohort / INPUTS[kind]
    before = snapshot(cohort)
    if command in FILE_COMMANDS:
        links = cohort.parent / "links"
        links.mkdir()
        out = links / "out.tsv"
        out.symlink_to(target)
    else:
        out = target.parent
    code = main(argv(command, cohort, out))
    # a folder holding an index holds its file too, which is named first
    named = target.name if command in FILE_COMMANDS else target.name.removesuffix(
        ".tbi").removesuffix(".bai").removesuffix(".fai")
    one_error_line(capfd, code, str(out), named, "input file")
    assert snapshot(cohort) == before
    assert not [p for p in out.parent.iterdir() if p.name.endswith((".tmp", ".old"))]


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "hardlink", "folder link"])
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_every_spelling_of_the_sample_sheet_is_refused(capfd, cohort, command, spelling):
    sheet = cohort / "samplesheet.tsv"
    before = sheet.read_bytes()
    if spelling == "same":
        out = sheet
    elif spelling == "dot":
        out = cohort / "." / "vcf" / ".." / "samplesheet.tsv"
    elif spelling == "symlink":
        out = cohort.parent / "sheet-link.tsv"
        out.symlink_to(sheet)
    elif spelling == "hardlink":
        out = cohort.parent / "sheet-hard.tsv"
        os.link(sheet, out)
    else:
        (cohort.parent / "dir-link").symlink_to(cohort)
        out = cohort.parent / "dir-link" / "samplesheet.tsv"
    one_error_line(capfd, main(argv(command, cohort, out)), "samplesheet.tsv", "input file")
    assert sheet.read_bytes() == before


def test_calls_of_one_patient_never_overwrite_another_patients_file(capfd, cohort):
    """--patient reads some rows, but every file the sheet names is protected."""
    target = cohort / "vcf" / "GIST01.mutect2.vcf.gz"
    before = target.read_bytes()
    code = main(["calls", str(cohort / "samplesheet.tsv"), "--patient", "GIST05", "-o",
                 str(target)])
    one_error_line(capfd, code, "GIST01.mutect2.vcf.gz")
    assert target.read_bytes() == before


@pytest.mark.parametrize("where", ["the cohort", "a folder link to it"])
def test_report_and_outcomes_refuse_a_folder_holding_the_inputs_with_force(capfd, cohort,
                                                                           where):
    out = cohort
    if where != "the cohort":
        out = cohort.parent / "link"
        out.symlink_to(cohort)
    before = snapshot(cohort)
    for command in FOLDER_COMMANDS:
        one_error_line(capfd, main(argv(command, cohort, out)), "input file")
    assert snapshot(cohort) == before


def test_demo_refuses_the_folder_of_its_own_cohort(capfd, cohort, monkeypatch):
    from lesiontrack.cli import commands as report_cli

    @contextlib.contextmanager
    def demo_sheet():
        yield cohort / "samplesheet.tsv"

    monkeypatch.setattr(report_cli, "demo_samplesheet", demo_sheet)
    before = snapshot(cohort)
    code = main(["demo", "-o", str(cohort / "vcf"), "--force"])
    one_error_line(capfd, code, "input file", "vcf")
    assert snapshot(cohort) == before


# ----------------------------------------------------------------------------------------------
# -o into a new folder, options after the subcommand, usage errors
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", FILE_COMMANDS + FOLDER_COMMANDS)
def test_output_into_a_folder_that_does_not_exist_creates_it(capfd, cohort, command):
    out = cohort.parent / "new" / "deeper" / ("out.graphml" if command == "graph" else "out")
    args = argv(command, cohort, out)
    args.remove("--reference")
    args.remove(str(cohort / "ref" / "ref.fa"))
    assert main(["-q", *args]) == 0, capfd.readouterr().err
    assert out.exists()


def test_debug_and_quiet_are_accepted_after_the_subcommand(capfd, cohort):
    sheet = str(cohort / "samplesheet.tsv")
    assert main(["calls", sheet, "--genes", "KIT,NOSUCHGENE"]) == 0
    assert "NOSUCHGENE" in capfd.readouterr().err
    assert main(["calls", sheet, "--genes", "KIT,NOSUCHGENE", "--quiet"]) == 0
    assert capfd.readouterr().err == ""
    assert main(["calls", "-q", sheet, "--debug", "--genes", "KIT,NOSUCHGENE"]) == 0
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("command", ["calls", "report", "outcomes", "demo"])
def test_a_usage_error_in_a_subcommand_points_at_its_help(capfd, cohort, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, str(cohort / "samplesheet.tsv"), "--no-such-option"])
    assert exit_.value.code == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1
    assert f"(see 'lesiontrack {command} --help')" in err, err


def test_unknown_genes_are_named_in_one_warning(capfd, cohort):
    sheet = str(cohort / "samplesheet.tsv")
    assert main(["calls", sheet, "--genes", "KIT,FOO,PDGFRA,BAR", "-o",
                 str(cohort.parent / "c.tsv")]) == 0
    warnings = [line for line in capfd.readouterr().err.splitlines() if "FOO" in line]
    assert len(warnings) == 1 and "--genes FOO, BAR: no bundled gene model" in warnings[0]
    # a gene the input's annotation names (the MAF's Hugo_Symbol) is no typo: no warning
    assert main(["calls", sheet, "--genes", "KIT,PDGFRA", "-o",
                 str(cohort.parent / "d.tsv")]) == 0
    assert "no bundled gene model" not in capfd.readouterr().err


def test_report_batches_warn_once(capfd, cohort, monkeypatch):
    from lesiontrack.cli import commands as report_cli

    monkeypatch.setattr(report_cli, "BATCH_PATIENTS", 1)
    assert main(["report", str(cohort / "samplesheet.tsv"), "--genes", "KIT,FOO",
                 "--permutations", "10", "-o", str(cohort.parent / "r")]) == 0
    err = capfd.readouterr().err
    assert err.count("FOO") == 1, err


@pytest.mark.parametrize("absolute", [False, True])
def test_source_keeps_the_path_as_the_sheet_wrote_it(capfd, cohort, absolute):
    sheet = cohort / "samplesheet.tsv"
    text = sheet.read_text()
    written = str(cohort / "maf" / "GIST05.vep.maf") if absolute else "./maf/GIST05.vep.maf"
    sheet.write_text(text.replace("maf/GIST05.vep.maf", written))
    assert main(["-q", "calls", str(sheet), "--patient", "GIST05"]) == 0
    out = capfd.readouterr().out.splitlines()
    column = out[0].split("\t").index("source")
    assert {line.split("\t")[column] for line in out[1:]} == {written}


# ----------------------------------------------------------------------------------------------
# write failures
# ----------------------------------------------------------------------------------------------


def _failing(monkeypatch, module, name: str, code: int, with_file: bool = True):
    original = getattr(module, name)

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), *([str(args[0])] if with_file else []))

    monkeypatch.setattr(module, name, fail)
    return original


@pytest.mark.parametrize(("code", "reason"), [(errno.EROFS, "read-only file system"),
                                              (errno.ENOSPC, "no space left"),
                                              (errno.EACCES, "permission denied")])
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_a_file_that_cannot_be_written_is_one_error_line(capfd, cohort, monkeypatch, command,
                                                         code, reason):
    out = cohort.parent / "out" / ("g.graphml" if command == "graph" else "o.tsv")
    args = argv(command, cohort, out)
    _failing(monkeypatch, os, "replace", code)
    err = one_error_line(capfd, main(args), f"cannot write ({reason})")
    assert "internal error" not in err
    assert not out.exists() and os.listdir(out.parent) == []


def test_a_full_disk_without_a_file_name_names_the_output(capfd, cohort, monkeypatch):
    out = cohort.parent / "o.tsv"
    _failing(monkeypatch, output, "frame_to_tsv", errno.ENOSPC, with_file=False)
    one_error_line(capfd, main(argv("calls", cohort, out)),
                   f"{out}: cannot write (no space left)")
    assert os.listdir(out.parent) == ["cohort"]


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
@pytest.mark.parametrize("existing", [False, True])
def test_a_folder_on_a_full_disk_is_never_half_written(capfd, cohort, monkeypatch, command,
                                                       existing):
    """The last file of the folder fails (outcomes: the second Kaplan-Meier figure): OUTDIR is
    absent, or as it was, and nothing is left beside it."""
    out = cohort.parent / "out"
    if existing:
        out.mkdir()
        (out / "old.txt").write_text("old\n")
    last = "provenance.json" if command == "report" else "km_os.svg"
    write_text = Path.write_text

    def full(self, *args, **kwargs):
        if self.name == last:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    args = argv(command, cohort, out)
    args[args.index("--reference"):args.index("--reference") + 2] = []
    if command == "report":
        args += ["--permutations", "10"]
    one_error_line(capfd, main(["-q", *args]), "cannot write (no space left)", str(out))
    assert sorted(os.listdir(cohort.parent)) == (["cohort", "out"] if existing else ["cohort"])
    if existing:
        assert os.listdir(out) == ["old.txt"]


def test_a_long_output_name_gets_a_shorter_temporary_name(capfd, cohort):
    """A 250-byte name is valid, but .<name>.<random>.tmp would not be: the temporary name is
    cut, never the output's."""
    out = cohort.parent / ("é" * 123 + ".tsv")  # 250 bytes
    assert len(os.fsencode(out.name)) == 250
    assert main(["-q", "calls", str(cohort / "samplesheet.tsv"), "-o", str(out)]) == 0
    assert sorted(os.listdir(out.parent)) == sorted(["cohort", out.name])
    name = output.temporary_name(out.name)
    assert len(os.fsencode(name)) <= 255 and name.startswith(".é") and f".{os.getpid()}." in name


def test_an_output_name_too_long_is_one_error_line(capfd, cohort):
    out = cohort.parent / ("x" * 300 + ".tsv")
    code = main(["calls", str(cohort / "samplesheet.tsv"), "-o", str(out)])
    one_error_line(capfd, code, "cannot write (name too long)")


# ----------------------------------------------------------------------------------------------
# temporary names carry the owner's pid; a dead owner's leftovers are removed
# ----------------------------------------------------------------------------------------------


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_temporaries_of_dead_processes_are_removed_and_no_others(capfd, cohort, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "systmp"))
    (tmp_path / "systmp").mkdir()
    tag = output._host_tag()
    other = "0000" if tag != "0000" else "ffff"
    dead, alive = dead_pid(), os.getppid()
    folder = tmp_path / "results"
    folder.mkdir()
    stale = [folder / f".calls.tsv.{dead}.{tag}0123abcd.tmp",
             folder / f".report.{dead}.{tag}0123abcd.tmp",
             folder / f".report.{dead}.{tag}89abcdef.old",
             tmp_path / "systmp" / f"lesiontrack-calls-{dead}-{tag}ab_cd123"]
    kept = [folder / f".calls.tsv.{alive}.{tag}0123abcd.tmp",  # its owner runs
            folder / f".calls.tsv.{dead}.{other}0123abcd.tmp",  # another host's
            folder / ".calls.tsv.12345.tmp",  # not our pattern
            folder / f".other.tsv.{dead}.{tag}0123abcd.tmp",  # not this output's
            tmp_path / "systmp" / f"lesiontrack-calls-{alive}-{tag}ab_cd123",
            tmp_path / "systmp" / f"somebody-else-{dead}-{tag}ab_cd123"]
    for path in stale + kept:
        if (path.name.endswith(".tmp") and "report" in path.name) or "systmp" in str(path):
            path.mkdir()
            (path / "part.html").write_text("x")
        else:
            path.write_text("x")
    (folder / "report").mkdir()  # an earlier report, replaced with --force
    (folder / "report" / "index.html").write_text("old")
    sheet = str(cohort / "samplesheet.tsv")
    assert main(["-q", "calls", sheet, "-o", str(folder / "calls.tsv")]) == 0
    assert main(["-q", "report", sheet, "--calls", str(folder / "calls.tsv"), "--permutations",
                 "10", "-o", str(folder / "report"), "--force"]) == 0
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []


def test_temporary_names_carry_the_pid(cohort, tmp_path, monkeypatch):
    seen = []
    replace = os.replace

    def spy(src, dst, *args, **kwargs):
        seen.append(Path(src).name)
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", spy)
    assert main(["-q", "calls", str(cohort / "samplesheet.tsv"), "-o",
                 str(tmp_path / "c.tsv")]) == 0
    assert seen and seen[0].startswith(f".c.tsv.{os.getpid()}.{output._host_tag()}")
    assert seen[0].endswith(".tmp")
    assert output.private_folder("test").name.startswith(f"lesiontrack-test-{os.getpid()}-")


# ----------------------------------------------------------------------------------------------
# a missing .fai is never built beside the input
# ----------------------------------------------------------------------------------------------


def test_a_reference_without_fai_is_indexed_privately(capfd, cohort, tmp_path):
    ref_dir = cohort / "ref"
    (ref_dir / "ref.fa.fai").unlink()
    os.chmod(ref_dir, 0o555)  # (root ignores it: the listing below is the proof)
    try:
        assert main(["-q", "calls", str(cohort / "samplesheet.tsv"), "--reference",
                     str(ref_dir / "ref.fa"), "-o", str(tmp_path / "c.tsv")]) == 0
    finally:
        os.chmod(ref_dir, 0o755)
    assert os.listdir(ref_dir) == ["ref.fa"]
    assert "p." in (tmp_path / "c.tsv").read_text()


def test_a_cram_reference_without_fai_is_indexed_privately(tmp_path):
    from lesiontrack.reference import Reference, indexed_fasta

    fasta = write_synthetic_reference(tmp_path / "ref.fa")
    assert indexed_fasta(fasta) == fasta  # its own index beside it is used
    (tmp_path / "ref.fa.fai").unlink()
    private = indexed_fasta(fasta)
    assert private != fasta and private.resolve() == fasta.resolve()
    assert Reference(fasta).fasta_path == private
    assert os.listdir(tmp_path) == ["ref.fa"]


def test_an_unreadable_reference_is_named_truthfully(capfd, cohort, tmp_path):
    (tmp_path / "refs").mkdir()
    bad = tmp_path / "refs" / "ref.fa"
    bad.write_text("this is not a FASTA\n")
    code = main(["calls", str(cohort / "samplesheet.tsv"), "--reference", str(bad)])
    err = one_error_line(capfd, code, "ref.fa", "cannot open the reference FASTA")
    assert "read-only" not in err
    assert os.listdir(tmp_path / "refs") == ["ref.fa"]


# ----------------------------------------------------------------------------------------------
# SIGTERM: one line, every time
# ----------------------------------------------------------------------------------------------


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux /proc")
def test_sigterm_during_calls_with_workers_prints_one_line_every_time(tmp_path):
    """The whole process group killed while worker processes read: exactly
    ``lesiontrack: terminated``, exit 143, no thread traceback, nothing left behind."""
    head = ("##fileformat=VCFv4.2\n##contig=<ID=chr4,length=190214555>\n"
            '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n")
    records = "chr4\t54733155\t.\tA\tT\t.\tPASS\t.\tAD\t100,30\n" * 100
    (tmp_path / "v").mkdir()
    lines = ["patient_id\tlesion_id\tsample_id\tstatus\tcalls\tvcf_sample"]
    for i in range(800):
        (tmp_path / "v" / f"f{i}.vcf").write_text(head + records)
        lines.append(f"P{i // 4}\tL{i % 4}\tS{i}\t{'PD' if i % 2 else 'SD'}\tv/f{i}.vcf\tT1")
    (tmp_path / "sheet.tsv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    rng = random.Random(1)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(10):
        process = subprocess.Popen(
            [sys.executable, "-m", "lesiontrack.cli", "calls", "sheet.tsv", "--jobs", "2",
             "-o", str(out / "calls.tsv")], cwd=tmp_path, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 2 and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.3))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # pragma: no cover - the failure this test is for
            os.killpg(process.pid, signal.SIGKILL)
            raise
        assert (process.returncode, err) == (143, "lesiontrack: terminated\n")
        assert os.listdir(out) == []


def test_an_old_outdir_moved_aside_by_a_killed_run_is_put_back(capfd, cohort, tmp_path):
    """Killed between moving the old OUTDIR aside and moving the new one in: the next run finds
    the old one back in place (and, without --force, refuses to replace it)."""
    old = tmp_path / f".report.{dead_pid()}.{output._host_tag()}0123abcd.old"
    old.mkdir()
    (old / "index.html").write_text("old report\n")
    code = main(["report", str(cohort / "samplesheet.tsv"), "-o", str(tmp_path / "report")])
    one_error_line(capfd, code, "not empty")
    assert (tmp_path / "report" / "index.html").read_text() == "old report\n"
    assert not old.exists()


@pytest.mark.parametrize("index", ["vcf/GIST01.mutect2.vcf.gz.csi", "bam/GIST02_L1.bai",
                                   "ref/ref.fa.gzi"])
def test_an_output_named_as_an_index_htslib_would_read_is_refused(capfd, cohort, index):
    """An index that does not exist yet would be taken for the input's by htslib."""
    target = cohort / index
    one_error_line(capfd, main(argv("calls", cohort, target)), "input file", target.name)
    assert not target.exists()


def test_the_input_check_is_linear_and_cheap(tmp_path):
    """At most one stat per input for an existing output file, none for a new one (counted,
    not timed): a sheet of many calls files is checked in linear time."""
    import pandas as pd

    paths = [str(tmp_path / f"f{i}.vcf") for i in range(20_000)]
    sheet = pd.DataFrame({"calls_path": paths, "bam_path": [""] * len(paths)})
    inputs = output.named_inputs(sheet_path=tmp_path / "sheet.tsv", sheet=sheet)
    assert len(inputs) == 20_001
    (tmp_path / "out.tsv").write_text("")
    calls = []
    stat = os.stat

    def counting(path, *args, **kwargs):
        calls.append(path)
        return stat(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "stat", counting)
        output.check_outputs(inputs, files=[tmp_path / "out.tsv"])
        output.check_outputs(inputs, files=[tmp_path / "new.tsv"])
    assert len(calls) <= 20_001 + 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX")
def test_a_pool_whose_worker_died_mid_message_is_stopped_without_hanging(tmp_path):
    """A worker killed while sending its result leaves a partial message in the result pipe:
    the pool's reader then waits for the rest for ever, and so would a process that waits
    for the pool (at exit too). stop_worker_pool ends it: the process exits."""
    script = tmp_path / "partial.py"
    script.write_text(textwrap.dedent("""
        import os, signal, struct, sys, time
        from concurrent.futures import ProcessPoolExecutor
        from lesiontrack.workers import stop_worker_pool

        pool = ProcessPoolExecutor(1)
        future = pool.submit(time.sleep, 60)
        while not pool._processes:
            time.sleep(0.01)
        # what a worker killed mid-send leaves: a header announcing 1000 bytes, then 10
        os.write(pool._result_queue._writer.fileno(), struct.pack("!i", 1000) + b"x" * 10)
        for process in pool._processes.values():
            os.kill(process.pid, signal.SIGKILL)
        time.sleep(0.2)
        stop_worker_pool(pool)
        print("stopped")
    """))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout == "stopped\n", done.stderr


# ----------------------------------------------------------------------------------------------
# the same on real read-only and full file systems (a private mount namespace: skipped where
# mounting is not allowed)
# ----------------------------------------------------------------------------------------------


def _can_mount(tmp_path: Path) -> bool:
    if not shutil.which("unshare") or not shutil.which("mount"):
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    done = subprocess.run(["unshare", "-m", "sh", "-c",
                           f"mount -t tmpfs -o size=16k tmpfs '{probe}'"],
                          capture_output=True, timeout=30)
    probe.rmdir()
    return done.returncode == 0


@pytest.mark.parametrize("case", ["calls into a read-only folder",
                                  "report onto a full disk", "outcomes onto a full disk",
                                  "a reference without .fai in a read-only folder"])
def test_real_read_only_and_full_file_systems(cohort, tmp_path, case):
    if not _can_mount(tmp_path):
        pytest.skip("cannot mount in a private namespace here")
    target = tmp_path / "mnt"
    target.mkdir()
    sheet, ref = cohort / "samplesheet.tsv", cohort / "ref"
    if "read-only" in case:
        mount = f"mount --bind '{target}' '{target}' && mount -o remount,ro,bind '{target}'"
    else:
        mount = f"mount -t tmpfs -o size=16k tmpfs '{target}'"
    if case.startswith("calls"):
        argv_ = ["calls", sheet, "-o", target / "sub" / "calls.tsv"]
        expect = f"{target / 'sub'}: cannot write (read-only file system)"
    elif case.startswith("report"):
        argv_ = ["report", sheet, "--permutations", "10", "-o", target / "report"]
        expect = f"{target / 'report'}: cannot write (no space left)"
    elif case.startswith("outcomes"):
        argv_ = ["outcomes", sheet, "--patients", cohort / "clinical" / "patients.tsv", "-o",
                 target / "outcomes"]
        expect = f"{target / 'outcomes'}: cannot write (no space left)"
    else:
        (ref / "ref.fa.fai").unlink()
        shutil.move(ref, target / "ref")  # the reference's folder becomes read-only
        ref = target / "ref"
        argv_ = ["calls", sheet, "--reference", ref / "ref.fa", "-o", tmp_path / "calls.tsv"]
        expect = None
    command = " ".join(f"'{a}'" for a in [sys.executable, "-m", "lesiontrack.cli", "-q",
                                          *map(str, argv_)])
    done = subprocess.run(["unshare", "-m", "sh", "-c", f"{mount} && {command}"],
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=300)
    if expect is None:
        assert done.returncode == 0, done.stderr
        assert sorted(os.listdir(ref)) == ["ref.fa"]
        return
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"lesiontrack: error: {expect}\n"
    assert os.listdir(target) == []  # (the mount is gone: nothing reached the real folder)


@pytest.mark.parametrize("command", ["calls", "classify", "graph"])
@pytest.mark.parametrize("target", ["folder", "folder/", ""])
def test_an_output_file_that_is_a_folder_is_one_error_line_before_any_work(
        capfd, tmp_path, command, target):
    from lesiontrack.cli import main

    (tmp_path / "folder").mkdir()
    sheet = Path(__file__).resolve().parents[1] / "fixtures" / "samplesheet.tsv"
    out = str(tmp_path / target) if target else ""
    code = main([command, str(sheet), "-o", out])
    err = capfd.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "is a folder" in err and "internal error" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]
