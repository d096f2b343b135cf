"""Output safety, in one place: atomic writes, never onto an input, write failures as errors.

- Every file is written to a temporary name beside it, then renamed into place
  (:func:`atomic_path`); a folder (a report, outcomes) is built beside OUTDIR and moved into place
  when complete (:func:`building_folder`). Missing parent folders are created.
- :func:`check_outputs` refuses an output file that is an input (symbolic links, hard links and
  other spellings included) and an output folder that holds an input.
- A read-only or full file system, or a name too long, is :class:`~lesiontrack.OutputError`
  (one line ``<path>: cannot write (<reason>)``), not a bug.
- Temporary names carry the owning process id and a tag of this host:
  ``.<name>.<pid>.<hex>.tmp`` (files and folders being built), ``.<OUTDIR>.<pid>.<hex>.old`` (a
  folder being replaced) and ``lesiontrack-<what>-<pid>-<hex>...`` folders in the system temporary
  folder. Those of a process that no longer runs on this host (killed by SIGKILL) are removed by
  the next run that writes the same output (:func:`remove_stale`, :func:`private_folder`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from stat import S_ISDIR

import pandas as pd

from .errors import OptionError, OutputError

#: Longest file name (bytes) of the usual file systems (ext4, XFS, APFS, NTFS).
NAME_MAX = 255

#: errno -> the reason shown; the first four can only come from writing.
_EDQUOT = getattr(errno, "EDQUOT", -1)  # not on every platform
_WRITE_ERRORS = {
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left",
    _EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large",
    errno.ENAMETOOLONG: "name too long",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EISDIR: "it is a folder",
    errno.EBUSY: "device or resource busy",
}
#: errnos that only writing gives: an OSError carrying one is an output error wherever it is
#: raised (the command line's last resort, see :func:`write_failure`).
WRITE_ONLY_ERRNOS = frozenset({errno.EROFS, errno.ENOSPC, _EDQUOT, errno.EFBIG})


# ----------------------------------------------------------------------------------------------
# write failures
# ----------------------------------------------------------------------------------------------

def write_failure(exc: OSError, path: str | os.PathLike[str] | None) -> OutputError | None:
    """The :class:`OutputError` for an OSError met while writing ``path`` (named as the user
    named it, not by its temporary name; None: by the error's own file name), or None when it
    is not a failure of the environment."""
    reason = _WRITE_ERRORS.get(exc.errno)  # type: ignore[arg-type]
    if reason is None:
        return None
    where = path if path is not None else exc.filename
    if where is None:
        return None
    return OutputError(f"cannot write ({reason})", file=os.fsdecode(where))


@contextlib.contextmanager
def output_errors(path: str | os.PathLike[str], within: Path | None = None) -> Iterator[None]:
    """Turn a read-only or full file system (or a name too long) met while writing ``path``
    into :class:`OutputError`. ``within``: the block also reads inputs; a permission or
    name error then counts only when it names no file or one inside ``within``."""
    try:
        yield
    except OSError as exc:
        failure = write_failure(exc, path)
        if failure is None:
            raise
        if (within is not None and exc.errno not in WRITE_ONLY_ERRNOS
                and exc.filename is not None
                and not _inside(os.path.abspath(os.fsdecode(exc.filename)), os.fspath(within))):
            raise
        raise failure from exc


def _makedirs(folder: Path) -> None:
    """Create ``folder`` and its parents (the documented behaviour of every ``-o``)."""
    if folder.is_dir():
        return
    with output_errors(folder):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:  # a file where a folder is needed
            raise OptionError(f"cannot create the output folder: {exc.filename or folder} "
                              "exists and is not a folder", file=folder) from exc
        except NotADirectoryError as exc:
            raise OptionError("cannot create the output folder: a part of its path is a "
                              "file", file=folder) from exc


# ----------------------------------------------------------------------------------------------
# temporary names, and what killed processes left
# ----------------------------------------------------------------------------------------------

@functools.cache
def _host_tag() -> str:
    """4 hex digits naming this host: a process id means nothing on another machine sharing
    the folder (a cluster's network file system)."""
    return hashlib.sha1(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:4]


def _tail(suffix: str) -> str:
    return f".{os.getpid()}.{_host_tag()}{secrets.token_hex(4)}{suffix}"


def _fit(text: str, size: int) -> str:
    """``text`` cut to at most ``size`` bytes (file-system encoding), on a character boundary."""
    data = os.fsencode(text)
    if len(data) <= size:
        return text
    cut = data[:size]
    while cut:
        try:
            cut.decode("utf-8")
            break
        except UnicodeDecodeError:
            cut = cut[:-1]
    return os.fsdecode(cut)


def temporary_name(name: str, suffix: str = ".tmp") -> str:
    """``.<name>.<pid>.<hex><suffix>`` for a temporary sibling of ``name``, within
    :data:`NAME_MAX` bytes (a long ``name`` is shortened, never the process id or the hex)."""
    tail = _tail(suffix)
    return _fit("." + name, NAME_MAX - len(os.fsencode(tail))) + tail


_STALE = re.compile(r"^(?P<head>\..+)\.(?P<pid>[0-9]{1,10})\.(?P<host>[0-9a-f]{4})[0-9a-f]{8}"
                    r"(?P<suffix>\.tmp|\.old)$", re.DOTALL)
_PRIVATE = re.compile(r"^lesiontrack-(?P<what>[a-z]+)-(?P<pid>[0-9]{1,10})-(?P<host>[0-9a-f]{4})"
                      r"[a-z0-9_]{8}$")


def _running(pid: int) -> bool:
    """Whether ``pid`` may be a running process (anything unsure counts as running)."""
    if pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # another user's process, or not a pid at all: not ours to judge
    return True


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path)


def remove_stale(folder: Path, name: str) -> list[Path]:
    """Remove the temporary siblings of ``folder/name`` (``.<name>.<pid>.<hex>.tmp`` or
    ``.old``) whose process no longer runs on this host; returns what was removed. Only names of
    exactly that pattern are touched (a shortened ``name`` included)."""
    full = "." + name
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _STALE.match(entry.name)
        if match is None or match["host"] != _host_tag():
            continue
        head = match["head"]
        if head != full and not (full.startswith(head) and len(os.fsencode(entry.name))
                                 >= NAME_MAX - 4):
            continue
        if _running(int(match["pid"])):
            continue
        _remove(Path(entry.path))
        removed.append(Path(entry.path))
    return removed


def private_folder(what: str) -> Path:
    """A new private folder ``lesiontrack-<what>-<pid>-<hex>...`` in the system temporary folder
    (spill files, a reference index), after removing those of ``what`` left by processes that no
    longer run on this host. The caller removes it."""
    remove_stale_private(what)
    prefix = f"lesiontrack-{what}-{os.getpid()}-{_host_tag()}"
    with output_errors(tempfile.gettempdir()):
        return Path(tempfile.mkdtemp(prefix=prefix))


def remove_stale_private(what: str) -> list[Path]:
    """Remove ``lesiontrack-<what>-<pid>-...`` folders of processes that no longer run here."""
    removed = []
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return removed
    for entry in entries:
        match = _PRIVATE.match(entry.name)
        if (match is None or match["what"] != what or match["host"] != _host_tag()
                or _running(int(match["pid"]))):
            continue
        _remove(Path(entry.path))
        removed.append(Path(entry.path))
    return removed


# ----------------------------------------------------------------------------------------------
# never onto an input
# ----------------------------------------------------------------------------------------------

#: Index files beside an input, by the input's kind (read by htslib when present).
_COMPANIONS = {
    "BAM/CRAM": (".bai", ".crai", ".csi"),
    "calls file": (".tbi", ".csi"),
    "reference": (".fai", ".gzi"),
}
_INDEX_SUFFIXES = tuple(sorted({x for v in _COMPANIONS.values() for x in v}))


def _companions(role: str, path: str) -> list[str]:
    """The index files htslib looks for beside ``path`` (``x.bam.bai`` and ``x.bai``)."""
    out = []
    stem, extension = os.path.splitext(path)
    for suffix in _COMPANIONS.get(role, ()):
        out.append(path + suffix)
        if extension:
            out.append(stem + suffix)
    return out


def named_inputs(
    *,
    sheet_path: str | os.PathLike[str] | None = None,
    sheet: pd.DataFrame | None = None,
    calls_tables: Iterable[str | os.PathLike[str]] | None = (),
    reference: str | os.PathLike[str] | None = None,
    patients: str | os.PathLike[str] | None = None,
) -> list[tuple[str, str]]:
    """Every input of a command as ``(role, path)``: the sample sheet, its calls files,
    BAM/CRAMs and copy-number files (``sheet``'s ``calls_path``/``bam_path``/``cnv_path``),
    ``--calls`` tables, ``--reference``
    and ``--patients`` (:func:`check_outputs` adds their index files)."""
    out: list[tuple[str, str]] = []
    if sheet_path is not None:
        out.append(("sample sheet", os.fspath(sheet_path)))
    if sheet is not None:
        for column, role in (("calls_path", "calls file"), ("bam_path", "BAM/CRAM"),
                             ("cnv_path", "copy-number file")):
            if column in sheet:
                out.extend((role, str(v)) for v in dict.fromkeys(sheet[column].dropna()) if v)
    out.extend(("calls table", os.fspath(t)) for t in calls_tables or ())
    if reference is not None:
        out.append(("reference", os.fspath(reference)))
    if patients is not None:
        out.append(("patient table", os.fspath(patients)))
    return out


class _Resolver:
    """realpath of many paths, each folder resolved once."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        text = os.path.abspath(path)
        folder, name = os.path.split(text)
        real = self._folders.get(folder)
        if real is None:
            real = self._folders[folder] = os.path.realpath(folder)
        joined = os.path.join(real, name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_outputs(
    inputs: Iterable[tuple[str, str | os.PathLike[str]]],
    *,
    files: Iterable[str | os.PathLike[str]] = (),
    folders: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Raise :class:`~lesiontrack.OptionError` (naming both paths) when an output file is one of
    ``inputs`` (``(role, path)``, as :func:`named_inputs` gives them) or an index file of one
    (symbolic and hard links, ``./`` spellings included; an index even when it does not exist
    yet, as htslib would take it for the input's), or an output folder holds one (as named, or
    where its links lead).

    Cost: one ``stat`` per input for an output file that exists (index files only when the
    output's name is an index's), one ``lstat`` per input and one ``realpath`` per folder of
    inputs for an output folder that exists; nothing for outputs that do not exist yet."""
    resolve = _Resolver()
    targets = []  # (output, its (st_dev, st_ino) or None, its real path, an index's name?)
    for output in map(os.fspath, files):
        try:
            stat = os.stat(output)
            identity = (stat.st_dev, stat.st_ino)
        except OSError:
            identity = None
        else:
            if S_ISDIR(stat.st_mode):
                raise OptionError(f"{output} is a folder: give a file name for the output",
                                  field="--output", hint="e.g. -o results/calls.tsv")
        real = resolve(output)
        if identity is not None or real.endswith(_INDEX_SUFFIXES):
            targets.append((output, identity, real, real.endswith(_INDEX_SUFFIXES)))
    boxes = []
    for folder in map(os.fspath, folders):
        if os.path.exists(folder):  # a new folder holds nothing yet
            boxes.append((folder, {os.path.abspath(folder), os.path.realpath(folder)}))
    if not targets and not boxes:
        return
    seen: set[str] = set()
    for role, path in inputs:
        path = os.fspath(path)
        if path in seen:
            continue
        seen.add(path)
        for output, identity, output_real, index_name in targets:
            _check_file(output, identity, output_real, index_name, role, path, resolve)
        if boxes:
            named, real = os.path.abspath(path), resolve(path)
            for folder, spellings in boxes:  # (an index lies beside its input: checked too)
                if any(_inside(named, s) or _inside(real, s) for s in spellings):
                    raise OptionError(
                        f"the output folder holds an input file: the {role} {path}",
                        file=folder, hint="write to a new folder; inputs are never modified")


def _check_file(output: str, identity, output_real: str, index_name: bool, role: str,
                path: str, resolve: _Resolver) -> None:
    same = False
    if identity is not None:
        with contextlib.suppress(OSError):
            stat = os.stat(path)
            same = identity == (stat.st_dev, stat.st_ino)
    if same:
        raise OptionError(f"the output is an input file: the {role} {path}", file=output,
                          hint="choose another output name; inputs are never overwritten")
    if index_name:
        for index in _companions(role, path):
            if resolve(index) == output_real:
                raise OptionError(
                    f"the output is an input file: the {role} index {index}", file=output,
                    hint="choose another output name; inputs are never overwritten")


# ----------------------------------------------------------------------------------------------
# atomic files
# ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (its folder created if missing); rename it onto
    ``path`` only on success. Write failures raise :class:`OutputError`."""
    path = Path(path)
    if os.path.isdir(path):  # (os.path: a name too long is False here, reported below)
        raise OutputError("cannot write (it is a folder: give a file name)", file=path)
    _makedirs(path.parent)
    remove_stale(path.parent, path.name)
    tmp = path.parent / temporary_name(path.name)
    with output_errors(path):
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # umask applies
    try:
        with output_errors(path):
            yield tmp
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write text atomically (UTF-8, LF newlines)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a table as TSV, or Parquet when the name ends in ``.parquet``, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".parquet":
            try:
                frame.to_parquet(tmp, index=False)
            except ImportError as exc:
                raise OptionError("writing Parquet needs pyarrow", file=path,
                                  hint="pip install 'lesiontrack[parquet]'") from exc
        else:
            frame_to_tsv(frame, tmp)


def frame_to_tsv(frame: pd.DataFrame, path: str | os.PathLike[str] | None = None, *,
                 header: bool = True) -> str | None:
    """TSV with empty cells for missing values and True/False for booleans (``header=False``:
    the rows only, to append a part of a table)."""
    return frame.to_csv(path, sep="\t", index=False, na_rep="", lineterminator="\n",
                        float_format="%.6g", header=header)


# ----------------------------------------------------------------------------------------------
# folders built beside OUTDIR
# ----------------------------------------------------------------------------------------------

def check_outdir(outdir: Path, force: bool,
                 inputs: Iterable[tuple[str, str | os.PathLike[str]]] = ()) -> None:
    """Raise OptionError unless OUTDIR may receive a new folder (new, empty, or ``force``) and
    holds none of ``inputs``."""
    outdir = Path(os.path.abspath(outdir))
    if outdir.exists() and not outdir.is_dir():
        raise OptionError(f"{outdir} exists and is not a folder", file=outdir,
                          hint="choose a new folder name")
    if outdir.parent == outdir:
        raise OptionError("cannot write over the root folder", file=outdir)
    cwd = os.path.realpath(os.getcwd())
    if any(_inside(cwd, s) for s in {os.fspath(outdir), os.path.realpath(outdir)}):
        raise OptionError("the output folder is the current folder or one of its parents",
                          file=outdir, hint="choose a new folder, e.g. -o report")
    check_outputs(inputs, folders=[outdir])
    if outdir.is_dir() and any(outdir.iterdir()) and not force:
        raise OptionError("the output folder exists and is not empty", file=outdir,
                          hint="choose a new folder, or pass --force to replace it")


def _swap_into_place(built: Path, outdir: Path) -> None:
    """Move the finished folder onto OUTDIR; an old OUTDIR is removed only afterwards."""
    if not outdir.exists() and not outdir.is_symlink():
        os.rename(built, outdir)
        return
    old = outdir.parent / temporary_name(outdir.name, ".old")
    os.rename(outdir, old)
    try:
        os.rename(built, outdir)
    except BaseException:
        os.rename(old, outdir)
        raise
    _remove(old)  # OUTDIR was a link to a folder: the link goes, not its target


def _restore_interrupted_swap(outdir: Path) -> None:
    """A process killed between moving the old OUTDIR aside and moving the new one in left no
    OUTDIR and a ``.<OUTDIR>.<pid>.<hex>.old``: put the old one back (it is what the user had)."""
    if outdir.exists() or outdir.is_symlink():
        return
    with contextlib.suppress(OSError):
        for entry in sorted(os.scandir(outdir.parent), key=lambda e: e.name):
            match = _STALE.match(entry.name)
            if (match and match["suffix"] == ".old" and match["head"] == "." + outdir.name
                    and match["host"] == _host_tag() and not _running(int(match["pid"]))):
                os.rename(entry.path, outdir)
                return


@contextlib.contextmanager
def building_folder(outdir: str | os.PathLike[str], *, force: bool = False,
                    inputs: Iterable[tuple[str, str | os.PathLike[str]]] = ()) -> Iterator[Path]:
    """Yield a new folder beside ``outdir`` to build in; when the block ends without error, move
    it onto ``outdir`` (a non-empty ``outdir`` is refused unless ``force``, and then replaced
    only now). On any error or signal the folder is removed and ``outdir`` left as it was."""
    outdir = Path(os.path.abspath(outdir))
    _restore_interrupted_swap(outdir)
    check_outdir(outdir, force, inputs)
    _makedirs(outdir.parent)
    remove_stale(outdir.parent, outdir.name)
    built = outdir.parent / temporary_name(outdir.name)
    try:
        with output_errors(outdir):
            built.mkdir()
        with output_errors(outdir, within=built):  # the block may read inputs too
            yield built
        check_outdir(outdir, force)  # nobody filled it meanwhile
        with output_errors(outdir):
            _swap_into_place(built, outdir)
    finally:
        if built.exists():
            with contextlib.suppress(OSError):
                shutil.rmtree(built)
