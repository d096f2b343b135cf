"""Output safety, unit by unit: atomic files and folders, temporary names and what killed
processes left, input/output clash checks, write failures as OutputError."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from lesiontrack import output  # the one line to change if the module moves
from lesiontrack.errors import OptionError, OutputError

TEMPORARY = re.compile(r"^\.(?P<name>.*)\.(?P<pid>[0-9]+)\.(?P<host>[0-9a-f]{4})[0-9a-f]{8}"
                       r"(?P<suffix>\.tmp|\.old)$", re.DOTALL)


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture(scope="module")
def host() -> str:
    match = TEMPORARY.match(output.temporary_name("x"))
    assert match is not None
    return match["host"]


def other_host(host: str) -> str:
    return "0000" if host != "0000" else "ffff"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ----------------------------------------------------------------------------------------------
# temporary names
# ----------------------------------------------------------------------------------------------

def test_temporary_name_carries_the_pid_and_this_host():
    name = output.temporary_name("calls.tsv")
    match = TEMPORARY.match(name)
    assert match is not None, name
    assert match["name"] == "calls.tsv" and int(match["pid"]) == os.getpid()
    assert match["suffix"] == ".tmp"
    assert output.temporary_name("report", ".old").endswith(".old")
    assert output.temporary_name("calls.tsv") != name  # a new one each time


def test_a_temporary_name_fits_the_longest_file_name():
    tail = len(output.temporary_name("")) - 1  # ".<pid>.<hex>.tmp"
    room = output.NAME_MAX - tail - 1  # bytes of the name that fit after the dot
    fits = "n" * room
    assert len(os.fsencode(output.temporary_name(fits))) == output.NAME_MAX
    assert TEMPORARY.match(output.temporary_name(fits))["name"] == fits  # not shortened
    longer = output.temporary_name(fits + "x")
    assert len(os.fsencode(longer)) == output.NAME_MAX
    assert TEMPORARY.match(longer)["name"] == fits  # the name is cut, never the pid or hex
    assert len(os.fsencode(output.temporary_name("n" * 1000))) == output.NAME_MAX


def test_a_long_name_is_cut_on_a_character_boundary():
    name = output.temporary_name("é" * 200)  # 2 bytes each
    data = os.fsencode(name)
    assert len(data) <= output.NAME_MAX
    assert len(data) >= output.NAME_MAX - 1
    assert set(TEMPORARY.match(name)["name"]) == {"é"}


# ----------------------------------------------------------------------------------------------
# stale temporaries
# ----------------------------------------------------------------------------------------------

def stale(folder: Path, name: str, pid: int, host: str, suffix: str = ".tmp",
          folder_too: bool = False) -> Path:
    path = folder / f".{name}.{pid}.{host}0123abcd{suffix}"
    if folder_too:
        path.mkdir()
        (path / "inside.txt").write_text("x")
    else:
        path.write_text("x")
    return path


def test_remove_stale_removes_only_dead_processes_of_this_host(tmp_path, dead_pid, host):
    dead = stale(tmp_path, "out.tsv", dead_pid, host)
    dead_folder = stale(tmp_path, "out.tsv", dead_pid, host, ".old", folder_too=True)
    mine = stale(tmp_path, "out.tsv", os.getpid(), host)
    elsewhere = stale(tmp_path, "out.tsv", dead_pid, other_host(host))
    another_output = stale(tmp_path, "other.tsv", dead_pid, host)
    prefix_only = stale(tmp_path, "out.ts", dead_pid, host)
    odd = tmp_path / f".out.tsv.{dead_pid}.{host}0123abcd.bak"
    odd.write_text("x")
    removed = output.remove_stale(tmp_path, "out.tsv")
    assert sorted(removed) == sorted([dead, dead_folder])
    assert not dead.exists() and not dead_folder.exists()
    for kept in (mine, elsewhere, another_output, prefix_only, odd):
        assert kept.exists(), kept.name
    assert output.remove_stale(tmp_path / "missing", "out.tsv") == []


def test_remove_stale_takes_a_shortened_name_only_at_full_length(tmp_path, dead_pid, host):
    name = "n" * 300
    tail = f".{dead_pid}.{host}0123abcd.tmp"
    full = "." + name

    def make(length: int) -> Path:
        path = tmp_path / (full[:length - len(tail)] + tail)
        path.write_text("x")
        return path

    at_limit = make(output.NAME_MAX - 4)  # a shortened temporary name (within 4 bytes)
    below = make(output.NAME_MAX - 5)  # a name that is only a prefix: another output's
    removed = output.remove_stale(tmp_path, name)
    assert removed == [at_limit]
    assert below.exists()


def test_private_folder_and_its_stale_siblings(tmp_path, monkeypatch, dead_pid, host):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / f"lesiontrack-spill-{dead_pid}-{host}abcd_123"
    other_what = tmp_path / f"lesiontrack-fai-{dead_pid}-{host}abcd_123"
    other_host_folder = tmp_path / f"lesiontrack-spill-{dead_pid}-{other_host(host)}abcd_123"
    running = tmp_path / f"lesiontrack-spill-{os.getpid()}-{host}abcd_123"
    for folder in (dead, other_what, other_host_folder, running):
        folder.mkdir()
    made = output.private_folder("spill")
    assert made.parent == tmp_path and made.is_dir()
    assert made.name.startswith(f"lesiontrack-spill-{os.getpid()}-{host}")
    assert not dead.exists()
    assert other_what.exists() and other_host_folder.exists() and running.exists()
    assert output.remove_stale_private("fai") == [other_what]


# ----------------------------------------------------------------------------------------------
# atomic files
# ----------------------------------------------------------------------------------------------

def test_atomic_write_creates_folders_and_writes_utf8_with_lf(tmp_path):
    path = tmp_path / "a" / "b" / "out.txt"
    output.atomic_write(path, "é\nline\n")
    assert path.read_bytes() == "é\nline\n".encode()
    assert leftovers(path.parent) == []


def test_atomic_path_renames_only_on_success(tmp_path):
    path = tmp_path / "out.tsv"
    path.write_text("old")
    with output.atomic_path(path) as tmp:
        assert tmp.parent == path.parent and TEMPORARY.match(tmp.name)["name"] == "out.tsv"
        assert tmp.exists()  # created empty, so nobody else takes the name
        tmp.write_text("new")
        assert path.read_text() == "old"  # not yet in place
    assert path.read_text() == "new"
    assert leftovers(tmp_path) == []


def test_atomic_path_leaves_the_old_file_on_an_error(tmp_path):
    path = tmp_path / "out.tsv"
    path.write_text("old")
    with pytest.raises(KeyboardInterrupt), output.atomic_path(path) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old"
    assert leftovers(tmp_path) == []
    with pytest.raises(ValueError), output.atomic_path(tmp_path / "new.tsv"):
        raise ValueError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tsv"]


def test_atomic_path_refuses_a_folder(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError) as error, output.atomic_path(tmp_path / "out"):
        pass
    assert error.value.message == "cannot write (it is a folder: give a file name)"


def test_atomic_path_removes_stale_temporaries_of_the_same_output(tmp_path, dead_pid, host):
    old = stale(tmp_path, "out.tsv", dead_pid, host)
    output.atomic_write(tmp_path / "out.tsv", "x")
    assert not old.exists()


def test_a_file_where_a_folder_is_needed_is_an_option_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OptionError, match="exists and is not a folder"):
        output.atomic_write(tmp_path / "file" / "out.tsv", "x")
    with pytest.raises(OptionError, match="a part of its path is a file"):
        output.atomic_write(tmp_path / "file" / "deeper" / "out.tsv", "x")


def test_a_name_too_long_is_an_output_error(tmp_path):
    path = tmp_path / ("n" * 300)
    with pytest.raises(OutputError) as error:
        output.atomic_write(path, "x")
    assert error.value.message == "cannot write (name too long)"
    assert error.value.file == os.fspath(path)


def test_frame_to_tsv_format(tmp_path):
    frame = pd.DataFrame({"a": [1, None], "b": [True, False], "c": [0.123456789, 1e-10],
                          "d": ["x", None]})
    text = output.frame_to_tsv(frame)
    assert text == "a\tb\tc\td\n1\tTrue\t0.123457\tx\n\tFalse\t1e-10\t\n"
    assert output.frame_to_tsv(frame, header=False) == text.split("\n", 1)[1]
    output.write_table(frame, tmp_path / "t.tsv")
    assert (tmp_path / "t.tsv").read_text() == text


def test_write_table_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    output.write_table(frame, tmp_path / "t.PARQUET")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.PARQUET"), frame)


# ----------------------------------------------------------------------------------------------
# write failures
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, reason", [
    (errno.EROFS, "read-only file system"),
    (errno.ENOSPC, "no space left"),
    (errno.EFBIG, "file too large"),
    (errno.ENAMETOOLONG, "name too long"),
    (errno.EACCES, "permission denied"),
    (errno.EPERM, "operation not permitted"),
    (errno.EISDIR, "it is a folder"),
    (errno.EBUSY, "device or resource busy"),
])
def test_write_failure_names_the_output(code, reason):
    failure = output.write_failure(OSError(code, "x", "/tmp/.out.tsv.1.tmp"), "out.tsv")
    assert isinstance(failure, OutputError)
    assert failure.one_line() == f"out.tsv: cannot write ({reason})"
    named = output.write_failure(OSError(code, "x", "/data/out.tsv"), None)
    assert named.file == "/data/out.tsv"


def test_write_failure_is_none_for_other_errors():
    assert output.write_failure(OSError(errno.ENOENT, "x", "f"), "out.tsv") is None
    assert output.write_failure(OSError(errno.EIO, "x", "f"), "out.tsv") is None
    assert output.write_failure(OSError(errno.ENOSPC, "x"), None) is None  # names nothing
    assert {errno.EROFS, errno.ENOSPC, errno.EFBIG} <= output.WRITE_ONLY_ERRNOS
    assert errno.EACCES not in output.WRITE_ONLY_ERRNOS


def test_output_errors_within_a_folder(tmp_path):
    built = tmp_path / "built"
    with pytest.raises(OutputError), output.output_errors("out", within=built):
        raise OSError(errno.EACCES, "x", os.fspath(built / "page.html"))
    with pytest.raises(OutputError), output.output_errors("out", within=built):
        raise OSError(errno.EACCES, "x")  # names no file
    with pytest.raises(OutputError), output.output_errors("out", within=built):
        raise OSError(errno.ENOSPC, "x", "/elsewhere/input.vcf")  # only writing gives this
    with pytest.raises(PermissionError), output.output_errors("out", within=built):
        raise PermissionError(errno.EACCES, "x", os.fspath(tmp_path / "input.vcf"))  # reading
    with pytest.raises(FileNotFoundError), output.output_errors("out"):
        raise FileNotFoundError(errno.ENOENT, "x", "input.vcf")


# ----------------------------------------------------------------------------------------------
# never onto an input
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def inputs(tmp_path) -> dict[str, Path]:
    data = tmp_path / "data"
    data.mkdir()
    files = {"sheet": data / "sheet.tsv", "vcf": data / "a.vcf.gz", "bam": data / "a.bam",
             "ref": data / "ref.fa"}
    for path in files.values():
        path.write_text("x")
    return files


def roles(files: dict[str, Path]) -> list[tuple[str, str]]:
    return [("sample sheet", str(files["sheet"])), ("calls file", str(files["vcf"])),
            ("BAM/CRAM", str(files["bam"])), ("reference", str(files["ref"]))]


def refused(given: dict[str, Path], **kwargs) -> str:
    with pytest.raises(OptionError) as error:
        output.check_outputs(roles(given), **kwargs)
    return error.value.one_line()


def test_an_output_that_is_an_input_is_refused(inputs, tmp_path):
    sheet = inputs["sheet"]
    assert refused(inputs, files=[sheet]) == (
        f"{sheet}: the output is an input file: the sample sheet {sheet} (choose another "
        "output name; inputs are never overwritten)")
    hard = tmp_path / "hard.tsv"
    os.link(inputs["vcf"], hard)
    assert "the output is an input file: the calls file" in refused(inputs, files=[hard])
    soft = tmp_path / "soft.tsv"
    soft.symlink_to(inputs["bam"])
    assert "the output is an input file: the BAM/CRAM" in refused(inputs, files=[soft])
    spelled = tmp_path / "data" / ".." / "data" / "." / "ref.fa"
    assert "the reference" in refused(inputs, files=[spelled])


def test_an_output_named_as_an_index_of_an_input_is_refused(inputs):
    vcf, bam, ref = inputs["vcf"], inputs["bam"], inputs["ref"]
    for index, role in ((f"{vcf}.tbi", "calls file"), (f"{vcf}.csi", "calls file"),
                        (f"{bam}.bai", "BAM/CRAM"), (str(bam.with_suffix(".bai")), "BAM/CRAM"),
                        (f"{ref}.fai", "reference"), (f"{ref}.gzi", "reference")):
        assert not Path(index).exists()  # refused before htslib would take it for the input's
        assert f"the output is an input file: the {role} index {index}" in refused(
            inputs, files=[index])
    # an index name of another kind of input is not one htslib reads
    output.check_outputs(roles(inputs), files=[f"{vcf}.fai", f"{ref}.tbi", f"{bam}.tbi"])


def test_outputs_that_are_not_inputs_pass(inputs, tmp_path):
    existing = tmp_path / "existing.tsv"
    existing.write_text("x")
    output.check_outputs(roles(inputs), files=[tmp_path / "new.tsv", existing,
                                              inputs["vcf"].with_name("a.vcf.gz.tsv")])
    output.check_outputs(roles(inputs), folders=[tmp_path / "new", tmp_path / "dat"])
    output.check_outputs([], files=[inputs["sheet"]], folders=[tmp_path])


def test_an_output_file_that_is_a_folder_is_refused(inputs, tmp_path):
    assert refused(inputs, files=[tmp_path]) == (
        f"field '--output': {tmp_path} is a folder: give a file name for the output "
        "(e.g. -o results/calls.tsv)")


def test_an_output_folder_holding_an_input_is_refused(inputs, tmp_path):
    data = inputs["sheet"].parent
    assert refused(inputs, folders=[data]) == (
        f"{data}: the output folder holds an input file: the sample sheet {inputs['sheet']} "
        "(write to a new folder; inputs are never modified)")
    assert "holds an input file" in refused(inputs, folders=[tmp_path])
    link = tmp_path / "link"
    link.symlink_to(data)
    assert "holds an input file" in refused(inputs, folders=[link])
    # an input named through a link to the output folder
    other = tmp_path / "out"
    other.mkdir()
    (other / "sheet.tsv").write_text("x")
    (tmp_path / "alias").symlink_to(other)
    with pytest.raises(OptionError, match="holds an input file"):
        output.check_outputs([("sample sheet", str(tmp_path / "alias" / "sheet.tsv"))],
                             folders=[other])
    # an input that is a link to a file inside the output folder
    (tmp_path / "sheet-link.tsv").symlink_to(other / "sheet.tsv")
    with pytest.raises(OptionError, match="holds an input file"):
        output.check_outputs([("sample sheet", str(tmp_path / "sheet-link.tsv"))],
                             folders=[other])
    # a folder whose name only starts like the inputs' folder holds none of them
    (tmp_path / "dat").mkdir()
    output.check_outputs(roles(inputs), folders=[tmp_path / "dat"])


def test_named_inputs_lists_every_input_once(tmp_path):
    sheet = pd.DataFrame({
        "calls_path": ["a.vcf", "a.vcf", "b.vcf", None],
        "bam_path": ["a.bam", None, "", "b.bam"],
        "cnv_path": [None, None, None, None],
    })
    assert output.named_inputs(sheet_path="s.tsv", sheet=sheet, calls_tables=["c.tsv"],
                               reference=Path("r.fa"), patients="p.tsv") == [
        ("sample sheet", "s.tsv"), ("calls file", "a.vcf"), ("calls file", "b.vcf"),
        ("BAM/CRAM", "a.bam"), ("BAM/CRAM", "b.bam"), ("calls table", "c.tsv"),
        ("reference", "r.fa"), ("patient table", "p.tsv"),
    ]
    assert output.named_inputs() == []
    assert output.named_inputs(sheet=pd.DataFrame({"x": [1]}), calls_tables=None) == []


# ----------------------------------------------------------------------------------------------
# folders built beside OUTDIR
# ----------------------------------------------------------------------------------------------

def test_check_outdir(tmp_path, monkeypatch):
    output.check_outdir(tmp_path / "new", force=False)
    (tmp_path / "empty").mkdir()
    output.check_outdir(tmp_path / "empty", force=False)
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    with pytest.raises(OptionError, match="exists and is not empty"):
        output.check_outdir(full, force=False)
    output.check_outdir(full, force=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OptionError, match="exists and is not a folder"):
        output.check_outdir(tmp_path / "file", force=True)
    with pytest.raises(OptionError, match="root folder"):
        output.check_outdir(Path("/"), force=True)
    monkeypatch.chdir(full)
    for outdir in (full, tmp_path, Path(".")):
        with pytest.raises(OptionError, match="is the current folder or one of its parents"):
            output.check_outdir(outdir, force=True)
    (tmp_path / "link").symlink_to(full)
    with pytest.raises(OptionError, match="is the current folder or one of its parents"):
        output.check_outdir(tmp_path / "link", force=True)  # the current folder through a link
    output.check_outdir(tmp_path / "fullness", force=True)  # only a prefix of the cwd's name
    with pytest.raises(OptionError, match="holds an input file"):
        output.check_outdir(tmp_path / "empty", True, [("sample sheet",
                                                        str(tmp_path / "empty" / "s.tsv"))])


def test_building_folder_moves_into_place_on_success(tmp_path):
    outdir = tmp_path / "deep" / "report"
    with output.building_folder(outdir) as built:
        assert built.parent == outdir.parent and built != outdir
        (built / "index.html").write_text("new")
        assert not outdir.exists()
    assert (outdir / "index.html").read_text() == "new"
    assert leftovers(outdir.parent) == []


def test_building_folder_replaces_only_with_force_and_only_at_the_end(tmp_path):
    outdir = tmp_path / "report"
    outdir.mkdir()
    (outdir / "old.html").write_text("old")
    with pytest.raises(OptionError, match="not empty"), output.building_folder(outdir):
        pass
    with output.building_folder(outdir, force=True) as built:
        (built / "new.html").write_text("new")
        assert (outdir / "old.html").exists()  # replaced only when complete
    assert sorted(p.name for p in outdir.iterdir()) == ["new.html"]
    assert leftovers(tmp_path) == []


def test_building_folder_leaves_outdir_as_it_was_on_an_error(tmp_path):
    outdir = tmp_path / "report"
    outdir.mkdir()
    (outdir / "old.html").write_text("old")
    with pytest.raises(RuntimeError), output.building_folder(outdir, force=True) as built:
        (built / "half.html").write_text("half")
        raise RuntimeError
    assert sorted(p.name for p in outdir.iterdir()) == ["old.html"]
    assert leftovers(tmp_path) == []


def test_building_folder_checks_outdir_again_before_the_swap(tmp_path):
    outdir = tmp_path / "report"
    with pytest.raises(OptionError, match="not empty"), output.building_folder(outdir) as built:
        (built / "new.html").write_text("new")
        outdir.mkdir()  # another run filled OUTDIR meanwhile
        (outdir / "theirs.html").write_text("theirs")
    assert sorted(p.name for p in outdir.iterdir()) == ["theirs.html"]
    assert leftovers(tmp_path) == []


def test_building_folder_refuses_a_folder_holding_an_input(tmp_path):
    outdir = tmp_path / "report"
    outdir.mkdir()
    (outdir / "sheet.tsv").write_text("x")
    with pytest.raises(OptionError, match="holds an input file"), output.building_folder(
            outdir, force=True, inputs=[("sample sheet", str(outdir / "sheet.tsv"))]):
        pass
    assert (outdir / "sheet.tsv").exists()


def test_building_folder_restores_an_outdir_a_killed_swap_moved_aside(tmp_path, dead_pid, host):
    moved = stale(tmp_path, "report", dead_pid, host, ".old", folder_too=True)
    with output.building_folder(tmp_path / "report", force=True) as built:
        (built / "new.html").write_text("new")
    assert not moved.exists()
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == ["new.html"]
    # without force: the restored old folder is not empty, so it is kept and refused
    moved = stale(tmp_path, "again", dead_pid, host, ".old", folder_too=True)
    with pytest.raises(OptionError, match="not empty"), output.building_folder(tmp_path / "again"):
        pass
    assert (tmp_path / "again" / "inside.txt").exists() and not moved.exists()
    # a live process's folder being swapped is not touched
    live = stale(tmp_path, "live", os.getpid(), host, ".old", folder_too=True)
    with output.building_folder(tmp_path / "live"):
        pass
    assert live.exists()
