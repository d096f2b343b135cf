"""A VCF's header: the facts the reader uses (:class:`HeaderFields`, the same from pysam's
header or :func:`parse_header`, the fast path's text parser), the genome build it names, which
sample is the tumour, which caller wrote the file, and the checks of its lines before htslib
reads them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CallsFileError
from ..genome import assembly_from_chr4_length, normalize_assembly
from .annotations import SNPEFF_FIELDS, AnnotationFormat, formats_from_header
from .bgzf import FastPathUnsupported
from .bounded import open_binary
from .compression import COMPRESSION_ERRORS
from .windows import normalize_chrom

#: No line of a VCF header (``##`` lines and ``#CHROM``) may be longer than this: a longer one
#: is a corrupt or foreign file, and htslib would hold all of it in memory.
MAX_HEADER_LINE_BYTES = 16 * 1024 * 1024
#: Build names that a ``##reference=`` line may mention.
_REFERENCE_BUILD = re.compile(
    r"(?<![a-z0-9])(hg19|hg38|grch37|grch38|b37|b38|hs37d5|hs38dh|g1k_v37|assembly19|assembly38)"
    r"(?![0-9])",
    re.IGNORECASE,
)
_EXTRA_BUILDS = {"hs38dh": "GRCh38", "g1k_v37": "GRCh37", "assembly19": "GRCh37",
                 "assembly38": "GRCh38"}
_TUMOR_COLUMNS = ("TUMOR", "TUMOR_SAMPLE")
_NORMAL_COLUMNS = ("NORMAL", "NORMAL_SAMPLE")
_TYPES = frozenset({"Integer", "Float", "String", "Character"})
_DIGITS = re.compile(r"\d+")


# --------------------------------------------------------------------------------------------
# Checks of the header lines, before htslib reads them


def _check_header_line(path: Path, number: int, line: bytes) -> None:
    if len(line) > MAX_HEADER_LINE_BYTES:
        raise CallsFileError(
            f"header line longer than {MAX_HEADER_LINE_BYTES:,} bytes",
            file=path, where=number, hint="is the file corrupt or not a VCF?",
        )
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CallsFileError(
            f"the VCF header is not UTF-8 text (byte 0x{line[exc.start]:02x} at "
            f"column {exc.start + 1})", file=path, where=number,
            hint="convert the file to UTF-8, e.g. 'iconv -f latin1 -t utf-8'",
        ) from exc


def header_end(head: bytes) -> int:
    """Index just past the first complete line of ``head`` that ends the header (see
    :func:`_header_over`), or -1. The usual header (``##`` lines, then ``#CHROM``) is found
    with two counts instead of a loop over its lines."""
    at = 0 if head.startswith(b"#CHROM") else head.find(b"\n#CHROM") + 1
    if at > 0 or head.startswith(b"#CHROM"):
        before = head[:at]
        if head.startswith(b"##") + before.count(b"\n##") == before.count(b"\n"):
            end = head.find(b"\n", at)
            return -1 if end < 0 else end + 1
    at = 0
    for line in head.split(b"\n")[:-1]:  # complete lines only
        at += len(line) + 1
        if _header_over(line):
            return at
    return -1


def _header_over(line: bytes) -> bool:
    """The #CHROM line (or a record) ends the header; htslib reads on past blank lines."""
    return bool(line.strip()) and not line.startswith(b"##")


def check_vcf_header(path: Path, head: bytes | None = None) -> None:
    """Check the header lines of a text VCF (plain, gzip or BGZF) before htslib parses them.

    Reads line by line up to the ``#CHROM`` line (or the first record), each line at most
    :data:`MAX_HEADER_LINE_BYTES`, so memory stays bounded. Raises :class:`CallsFileError`
    naming the line for a line that is too long or not UTF-8 (the VCF specification's encoding;
    htslib would otherwise fail on it later, or not at all, depending on which line it is).
    ``head`` (the file's first bytes, decompressed, as :func:`.sniff.sniff` read them) spares a
    second read when the whole header is in it.
    """
    if head is not None:
        end = header_end(head)
        if end >= 0:
            try:
                head[:end].decode("utf-8")  # and every line is shorter than ``head``
                return
            except UnicodeDecodeError:
                for number, line in enumerate(head[:end].split(b"\n"), start=1):
                    _check_header_line(path, number, line + b"\n")  # names the line
    number = 0
    try:
        with open_binary(path) as handle:
            while line := handle.readline(MAX_HEADER_LINE_BYTES + 1):
                number += 1
                _check_header_line(path, number, line)
                if _header_over(line):
                    return
    except COMPRESSION_ERRORS as exc:
        raise CallsFileError(
            f"the compressed file is truncated or corrupt ({exc})", file=path,
            where=number + 1 if number else None,
            hint="the copy or the pipeline step that wrote it was interrupted; copy it again",
        ) from exc
    except OSError as exc:
        raise CallsFileError(f"cannot read the file: {exc}", file=path) from exc



# --------------------------------------------------------------------------------------------
# The header's facts


@dataclass
class HeaderFields:
    """The header facts the reader uses, whichever parser read them."""

    samples: list[str]
    formats: dict[str, tuple[str, str]]  # FORMAT ID -> (Number, Type), first definition wins
    info_descriptions: dict[str, str]  # INFO ID -> Description ("" when none)
    contigs: list[tuple[str, int | None]]  # (ID, length) in header order
    generic: list[tuple[str, str]]  # every ``##key=value`` line that is not ``<...>``
    contig_attributes: Callable[[str], dict[str, str]]  # a contig's ``<...>`` attributes


def header_assembly(fields: HeaderFields) -> tuple[str | None, str]:
    """The build the header names: chr4 ``##contig`` length, ``##reference``, contig assembly."""
    # chr4 first (as written: "4", "chr4"...), then the others in header order
    fours = [(n, length) for n, length in fields.contigs if "4" in n and normalize_chrom(n) == "4"]
    for name, length in fours:
        assembly = assembly_from_chr4_length(length)
        if assembly:
            return assembly, f"##contig {name} length {length}"
    for key, value in fields.generic:
        if key != "reference":
            continue
        match = _REFERENCE_BUILD.search(value)
        if match:
            token = match.group(1).lower()
            assembly = _EXTRA_BUILDS.get(token) or normalize_assembly(token)
            if assembly:
                return assembly, f"##reference={value}"
    names = [n for n, _ in fours]
    names += [n for n, _ in fields.contigs if not ("4" in n and normalize_chrom(n) == "4")]
    for name in names:
        attributes = fields.contig_attributes(name)
        assembly = normalize_assembly(attributes.get("assembly"))
        if assembly:
            return assembly, f"##contig {name} assembly={attributes['assembly']}"
    return None, ""



def af_number(fields: HeaderFields) -> str | None:
    """FORMAT/AF's declared Number; ``.`` for a RADIA file that declares none (its AF has one
    value per allele, REF first): :func:`detect_caller` tells Mutect2 from RADIA by it."""
    number = fields.formats["AF"][0] if "AF" in fields.formats else None
    sources = " ".join(v for k, v in fields.generic if k == "source")
    if "RADIA" in sources.upper() and number in (".", None):
        number = "."
    return number


def annotation_formats(fields: HeaderFields) -> list[AnnotationFormat]:
    """The CSQ/ANN layouts the header declares, and SnpEff's fixed ANN order when undeclared."""
    formats = formats_from_header(fields.info_descriptions)
    if not any(spec.tag == "ANN" for spec in formats):  # undeclared ANN: fixed order
        spec = AnnotationFormat.from_fields("ANN", SNPEFF_FIELDS)
        if spec is not None:
            formats.append(spec)
    return formats


def sample_roles(fields: HeaderFields) -> tuple[str | None, str | None]:
    """(tumour, normal) sample: the ``##tumor_sample``/``##normal_sample`` lines, else a column
    named TUMOR/NORMAL (any case), else None."""
    values = dict(reversed(fields.generic))  # first occurrence wins
    tumor = values.get("tumor_sample")
    normal = values.get("normal_sample")
    upper = {s.upper(): s for s in fields.samples}
    if tumor is None:
        tumor = next((upper[n] for n in _TUMOR_COLUMNS if n in upper), None)
    if normal is None:
        normal = next((upper[n] for n in _NORMAL_COLUMNS if n in upper), None)
    return tumor, normal


def detect_caller(keys: set[str] | frozenset[str], af_number: str | None = None) -> str:
    """The caller / count convention of a record from its FORMAT keys."""
    if "TAR" in keys and "TIR" in keys:
        return "strelka2_indel"
    if {"AU", "CU", "GU", "TU"} <= keys:
        return "strelka2_snv"
    if "RD" in keys and "FREQ" in keys:
        return "varscan2"
    if "RO" in keys and "AO" in keys:
        return "freebayes"
    if "VAF" in keys:
        return "deepvariant"
    if "FA" in keys and "AD" in keys:
        return "mutect1"
    if "AF" in keys and "AD" in keys:
        return "radia" if af_number == "." else "mutect2"
    if "AD" in keys:
        return "generic_ad"
    return "unknown"


# --------------------------------------------------------------------------------------------
# The fast path's parser of the header text


def _structured(value: str) -> dict[str, str]:
    """Attributes of a ``<key=value,key="quoted",...>`` header value as htslib stores them:
    spaces around keys and before values dropped, trailing spaces of values dropped (inside the
    quotes too), quoted values kept with their quotes and escapes."""
    body = value[1:-1]
    out: dict[str, str] = {}
    i, n = 0, len(body)
    while i < n:
        eq = body.find("=", i)
        if eq < 0:
            raise FastPathUnsupported("malformed header line")
        key = body[i:eq].strip(" ")
        j = eq + 1
        while j < n and body[j] == " ":
            j += 1
        if j < n and body[j] == '"':
            k = j + 1
            while k < n and body[k] != '"':
                k += 2 if body[k] == "\\" else 1
            if k >= n:
                raise FastPathUnsupported("unterminated quote in a header line")
            val = '"' + body[j + 1:k].rstrip(" ") + '"'
            i = k + 1
            if i < n:
                if body[i] != ",":
                    raise FastPathUnsupported("malformed header line")
                i += 1
        else:
            k = body.find(",", j)
            if k < 0:
                k = n
            val = body[j:k].rstrip(" ")
            if "<" in val or ">" in val or val.startswith("["):
                raise FastPathUnsupported("header value htslib reads its own way")
            i = k + 1
        if not key or key in out or "," in key:
            raise FastPathUnsupported("malformed header line")
        out[key] = val
    return out


def _plain(attrs: dict[str, str], key: str) -> str | None:
    """An attribute htslib uses as a bare word (ID, Number, Type, length): never quoted."""
    value = attrs.get(key)
    if value is not None and value.startswith('"'):
        raise FastPathUnsupported(f"quoted {key} in a header line")
    return value


def _contig(value: str) -> tuple[str, int | None]:
    if '"' not in value:  # the usual <ID=chr1,length=248956422>: no quoted commas
        attrs: dict[str, str] = {}
        for item in value[1:-1].split(","):
            key, eq, val = item.partition("=")
            key = key.strip(" ")
            if not eq or not key or key in attrs or "<" in val or ">" in val:
                raise FastPathUnsupported("malformed ##contig line")
            attrs[key] = val.strip(" ")
    else:
        attrs = _structured(value)
    name = _plain(attrs, "ID")
    if not name:
        raise FastPathUnsupported("##contig line without ID")
    length = _plain(attrs, "length")
    if length is None:
        return name, None
    if not _DIGITS.fullmatch(length):
        raise FastPathUnsupported("##contig length is not a number")
    return name, int(length) or None


@functools.lru_cache(maxsize=4096)
def _definition(key: str, value: str) -> tuple[str, str, str, str]:
    """(ID, Number, Type, Description as pysam gives it) of a ##FORMAT/##INFO ``<...>`` value.

    Cached: the files of one pipeline repeat the same definitions."""
    if value.startswith("<ID=") and value.endswith('">'):
        head, sep, description = value[4:-2].partition(',Description="')
        parts = head.split(",")
        if (sep and len(parts) == 3 and parts[1].startswith("Number=")
                and parts[2].startswith("Type=") and '"' not in head
                and not _UNESCAPED_QUOTE.search(description)):
            ident, number, kind = parts[0], parts[1][7:], parts[2][5:]
            if ident and number and kind and not _ODD_WORD.search(ident + number + kind):
                return ident, number, kind, description.rstrip(" ").strip('"')
    attrs = _structured(value)
    ident, number, kind = _plain(attrs, "ID"), _plain(attrs, "Number"), _plain(attrs, "Type")
    if not ident:
        raise FastPathUnsupported(f"##{key} line without ID")
    return ident, number or "", kind or "", (attrs.get("Description") or "").strip('"')


_UNESCAPED_QUOTE = re.compile(r'(?<!\\)"')
_ODD_WORD = re.compile(r"[\s<>=\"]")


@functools.lru_cache(maxsize=256)
def _contig_block(block: str) -> tuple[tuple[tuple[str, int | None], ...],
                                       tuple[tuple[str, str], ...]]:
    """((ID, length) of each contig in order, the first of a repeated ID; (ID, ``<...>``)) of
    the ##contig lines. Cached: the files of one pipeline repeat the same contig lines."""
    contigs: list[tuple[str, int | None]] = []
    values: dict[str, str] = {}
    for line in block.split("\n"):
        value = line[9:]
        if not value.startswith("<") or not value.endswith(">"):
            raise FastPathUnsupported("unusual ##contig line")
        name, length = _contig(value)
        if name not in values:
            values[name] = value
            contigs.append((name, length))
    return tuple(contigs), tuple(values.items())


def _contig_lines(text: str) -> tuple[str, str]:
    """(the run of ``##contig`` lines of a header, the header without them) when they are one
    run of lines, as callers write them; else ("", the header). Spares a loop over the
    hundreds of contig lines of a GRCh38 header: the run is parsed once (:func:`_contig_block`
    is cached) and the other lines in order."""
    first = text.find("\n##contig=")
    if first < 0:
        return "", text
    last = text.rfind("\n##contig=")
    end = text.find("\n", last + 1)
    if end < 0:
        return "", text  # the last line: not a header's run of contigs
    block = text[first + 1:end]
    if block.count("\n") != block.count("\n##contig="):
        return "", text  # other lines among them: the line loop keeps their order
    return block, text[:first] + text[end:]


def parse_header(raw: bytes) -> tuple[HeaderFields, int]:
    """(the header facts, number of header lines) of a VCF header (``##`` lines + ``#CHROM``)."""
    if b"\r" in raw:
        raise FastPathUnsupported("CR line endings")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FastPathUnsupported("header is not UTF-8") from exc
    if text.endswith("\n"):
        text = text[:-1]
    if not text.startswith("##fileformat=VCF"):
        raise FastPathUnsupported("no ##fileformat=VCF line")
    block, text = _contig_lines(text)
    lines = text.split("\n")
    n_lines = len(lines) + (block.count("\n") + 1 if block else 0)
    formats: dict[str, tuple[str, str]] = {}
    infos: dict[str, str] = {}
    generic: list[tuple[str, str]] = []
    contig_lines: list[str] = [block] if block else []
    for line in lines[:-1]:
        if line.startswith("##contig="):
            contig_lines.append(line)
            continue
        eq = line.find("=")
        if eq < 3 or not line.startswith("##"):
            raise FastPathUnsupported("unexpected line in the header")
        key = line[2:eq]
        value = line[eq + 1:]
        if not value.startswith("<"):
            generic.append((key, value))
            continue
        if not value.endswith(">"):
            raise FastPathUnsupported("unterminated header line")
        if key == "FORMAT":
            ident, number, kind, _ = _definition(key, value)
            if kind not in _TYPES or not number:
                raise FastPathUnsupported("##FORMAT line htslib may read differently")
            formats.setdefault(ident, (number, kind))
        elif key == "INFO":
            ident, _, _, description = _definition(key, value)
            infos.setdefault(ident, description)
    contigs, values = _contig_block("\n".join(contig_lines)) if contig_lines else ((), ())
    contig_values = dict(values)
    columns = lines[-1].split("\t")
    if columns[:8] != ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]:
        raise FastPathUnsupported("unusual #CHROM line")
    samples: list[str] = []
    if len(columns) > 8:
        if columns[8] != "FORMAT":
            raise FastPathUnsupported("unusual #CHROM line")
        samples = columns[9:]
        if len(set(samples)) != len(samples) or "" in samples:
            raise FastPathUnsupported("empty or repeated sample names")

    def attributes(name: str) -> dict[str, str]:
        value = contig_values.get(name)
        return _structured(value) if value else {}

    fields = HeaderFields(samples=samples, formats=formats, info_descriptions=infos,
                          contigs=list(contigs), generic=generic, contig_attributes=attributes)
    return fields, n_lines

