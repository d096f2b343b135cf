"""The line guard and bounded readers every text input goes through (lesiontrack.io.bounded)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from lesiontrack.errors import CallsFileError, SampleSheetError
from lesiontrack.io.bounded import GuardedReader, LineGuard, LineTooLongError, raw_chunks


def feed_all(text: bytes, cut: int, limit: int = 10) -> LineGuard:
    guard = LineGuard(Path("f.txt"), limit=limit)
    for i in range(0, len(text), cut):
        guard.feed(text[i:i + cut])
    return guard


@pytest.mark.parametrize("cut", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_a_line_of_exactly_the_limit_passes_one_more_byte_is_refused(cut, newline):
    ok = newline.join([b"a" * 10, b"", b"b" * 3, b"c" * 10]) + newline
    assert feed_all(ok, cut).line == 5  # four lines ended: the guard is on the fifth
    bad = newline.join([b"a" * 10, b"", b"b" * 3, b"c" * 11]) + newline
    with pytest.raises(LineTooLongError) as info:
        feed_all(bad, cut)
    assert (info.value.file, info.value.where) == ("f.txt", 4)
    assert str(info.value) == ("f.txt:4: line longer than 10 bytes (is this a corrupt or "
                               "foreign file, or not a calls file?)")


def test_an_unfinished_last_line_counts_too():
    with pytest.raises(LineTooLongError) as info:
        feed_all(b"ab\ncd\n" + b"x" * 11, 4)
    assert info.value.where == 3


def test_chunks_longer_than_the_limit_are_looked_at_line_by_line():
    guard = LineGuard(Path("f"), limit=4)
    guard.feed(b"abcd\r\nef\rgh\n\nij")
    assert (guard.line, guard.run) == (5, 2)
    with pytest.raises(LineTooLongError) as info:
        guard.feed(b"k\nlmnopq\n")
    assert info.value.where == 6


def test_the_error_class_and_wording_are_the_callers():
    guard = LineGuard(Path("sheet.tsv"), limit=3, error=SampleSheetError, what="sample sheet")
    with pytest.raises(SampleSheetError) as info:
        guard.feed(b"abcd")
    assert "not a sample sheet" in str(info.value)


def test_raw_chunks_inflate_a_capped_piece_at_a_time(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"\n" * (8 << 20)))  # 8 KB that inflate to 8 MiB
    sizes = [len(chunk) for chunk in raw_chunks(path, 1 << 20)]
    assert sum(sizes) == 8 << 20 and max(sizes) <= 1 << 20


def test_guarded_reader_stops_a_parser_at_the_long_line(tmp_path):
    path = tmp_path / "t.tsv.gz"
    path.write_bytes(gzip.compress(b"a\tb\n1\t2\n" + b"3\t" + b"4" * 40 + b"\n"))
    with GuardedReader(path, limit=20) as source, pytest.raises(CallsFileError) as info:
        while source.read(8):
            pass
    assert info.value.where == 3


def test_a_truncated_gzip_calls_table_is_one_error(tmp_path):
    from lesiontrack import read_calls_table
    from lesiontrack.calls import CALLS_COLUMNS

    data = gzip.compress(("\t".join(CALLS_COLUMNS) + "\n").encode() * 2000)
    path = tmp_path / "calls.tsv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CallsFileError) as info:
        read_calls_table(path)
    assert "truncated or corrupt" in str(info.value)


@pytest.mark.parametrize("window", [100, 4096, 8 << 20])
def test_an_unindexed_bgzf_file_is_scanned_window_by_window(tmp_path, monkeypatch, window):
    """The whole-file scan reads the compressed file WINDOW_BYTES at a time (it held all of
    it): every window size gives the whole text, in order; a cut file is refused."""
    import pysam

    from lesiontrack.io import bgzf, textmap

    monkeypatch.setattr(textmap, "WINDOW_BYTES", window)
    monkeypatch.setattr(textmap, "CHUNK_BYTES", 50_000)
    monkeypatch.setattr(textmap, "THREADS_FROM_BYTES", 0)  # threads=2 inflates in workers
    text = b"".join(b"chr%d\t%d\t.\tA\tG\n" % (i % 7, i) for i in range(40_000))
    plain, packed = tmp_path / "t.txt", tmp_path / "t.txt.gz"
    plain.write_bytes(text)
    pysam.tabix_compress(str(plain), str(packed), force=True)
    for threads in (1, 2):
        assert b"".join(textmap.map_text(packed, "bgzf", bytes, threads=threads)) == text
    data = packed.read_bytes()
    packed.write_bytes(data[:len(data) // 2] + data[-28:])  # blocks cut, end-of-file kept
    with pytest.raises(bgzf.FastPathUnsupported):
        b"".join(textmap.map_text(packed, "bgzf", bytes, threads=1))
