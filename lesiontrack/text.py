"""Numbers and words for people: the one formatting home of the text output and the HTML report.

Never ``None``, ``nan`` or a 16-digit float: p-values to two significant digits (``< 0.001``
below), odds ratios and confidence intervals to two decimals, ``infinite`` for an unbounded
value, and ``undefined`` (with the reason, where one is known) for a test that cannot be done.
"""

from __future__ import annotations

import math

__all__ = [
    "P_FLOOR", "as_number", "as_text", "clustering_lines", "exon_label", "format_ci",
    "format_count", "format_months", "format_number", "format_p", "format_percent",
    "format_ratio", "format_share", "is_missing", "mutation_name", "p_phrase", "plural",
    "stats_text", "undefined_because",
]

#: p-values below this are shown as ``< 0.001``.
P_FLOOR = 0.001


def is_missing(value) -> bool:
    """None, pandas NA/NaT or a float NaN (a string is never missing)."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_text(value) -> str:
    """``value`` as text; "" when missing."""
    return "" if is_missing(value) else str(value)


def as_number(value) -> float | None:
    """``value`` as a finite float; None when missing, NaN or infinite."""
    if is_missing(value):
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def mutation_name(gene, hgvsp, variant_key, hgvsc="", exon="") -> str:
    """``KIT p.V654A``; else ``KIT c.1961T>C``; else a description from the alleles
    (``KIT exon 11 6-bp deletion``, never a guessed HGVS name); else the variant key."""
    gene, hgvsp, hgvsc, exon = as_text(gene), as_text(hgvsp), as_text(hgvsc), as_text(exon)
    if hgvsp or hgvsc:
        return f"{gene} {hgvsp or hgvsc}".strip()
    try:
        _, _, alleles = variant_key.split(":", 2)
        ref, alt = alleles.split(">")
    except ValueError:
        return f"{gene} {variant_key}".strip()
    where = f"{gene} exon {exon}" if exon else gene
    if ref == "-":
        kind = f"{len(alt)}-bp insertion"
    elif alt == "-":
        kind = f"{len(ref)}-bp deletion"
    elif len(ref) != len(alt):
        kind = f"{len(ref)}-bp deletion-insertion"
    else:
        return f"{gene} {variant_key}".strip()
    return f"{where} {kind}".strip()


def exon_label(gene, exon) -> str:
    """``KIT exon 11``; ``KIT (outside a coding exon)`` without an exon; ``unknown gene``."""
    gene, exon = as_text(gene), as_text(exon)
    if exon:
        return f"{gene} exon {exon}".strip()
    return f"{gene} (outside a coding exon)".strip() if gene else "unknown gene"


def _number(value) -> float | None:
    """``value`` as a float; ``"inf"``/``"-inf"`` (the JSON spelling) included; None if missing."""
    if is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _significant(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits in plain decimal notation (no exponent)."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def format_p(p) -> str:
    """A p-value: ``"0.010"`` (two significant digits), ``"< 0.001"``, ``"undefined"``."""
    number = _number(p)
    if number is None:
        return "undefined"
    if number < P_FLOOR:
        return f"< {P_FLOOR:g}"
    return _significant(min(number, 1.0), 2)


def p_phrase(p) -> str:
    """``"p = 0.010"``, ``"p < 0.001"`` or ``"p undefined"``."""
    text = format_p(p)
    if text == "undefined":
        return "p undefined"
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def format_ratio(value) -> str:
    """An odds or hazard ratio, or a bound of its interval: two decimals (``"4.00"``),
    ``"infinite"``, ``"< 0.01"`` for a positive value that rounds to zero, ``"undefined"``."""
    number = _number(value)
    if number is None:
        return "undefined"
    if math.isinf(number):
        return "infinite" if number > 0 else "minus infinite"
    if 0 < abs(number) < 0.005:
        return "< 0.01" if number > 0 else "> -0.01"
    return f"{number:,.2f}"


def format_ci(low, high, level: int = 95) -> str:
    """``"95% CI 1.43 to infinite"``; ``""`` when both bounds are missing."""
    if _number(low) is None and _number(high) is None:
        return ""
    return f"{level}% CI {format_ratio(low)} to {format_ratio(high)}"


def format_number(value, digits: int = 3) -> str:
    """Any other measured number: ``digits`` significant digits, no exponent, ``"infinite"``,
    ``"undefined"``."""
    number = _number(value)
    if number is None:
        return "undefined"
    if math.isinf(number):
        return "infinite" if number > 0 else "minus infinite"
    if abs(number) >= 10 ** digits:
        return f"{number:,.0f}"
    return _significant(number, digits)


def format_count(value) -> str:
    """A count with thousands separators (``"10,000"``); ``"unknown"`` when missing."""
    number = _number(value)
    return "unknown" if number is None else f"{int(number):,}"


def format_percent(fraction) -> str:
    """An allele fraction as a percentage: ``"4.2%"`` below 10%, else ``"42%"``; ``""`` when
    missing."""
    number = _number(fraction)
    if number is None or math.isinf(number):
        return ""
    percent = number * 100
    return f"{percent:.1f}%" if percent < 10 else f"{percent:.0f}%"


def format_months(value) -> str:
    """A median survival time in months (``"7.5"``), ``"not reached"`` when missing."""
    number = _number(value)
    return "not reached" if number is None or math.isinf(number) else f"{number:.1f}"


def format_share(value, missing: str = "n/a") -> str:
    """A proportion as a whole percentage (``"67%"``); ``missing`` when there is none."""
    number = _number(value)
    return missing if number is None or math.isinf(number) else f"{100 * number:.0f}%"


def plural(n: int, one: str, many: str | None = None) -> str:
    """``one`` when ``n`` is 1, else ``many`` (default ``one + "s"``)."""
    return one if n == 1 else (many or one + "s")


def undefined_because(note) -> str:
    """The reason a result says why it is undefined (``"undefined: a row ... is empty"`` ->
    ``"a row ... is empty"``); ``""`` when there is none."""
    if is_missing(note) or not str(note).strip():
        return ""
    text = str(note).strip()
    return text.split(":", 1)[1].strip() if text.startswith("undefined:") else text


def clustering_lines(result: dict) -> list[str]:
    """The tests of :func:`~lesiontrack.test_clustering`'s ``result`` in words, one line per
    test, the headline first: the within-patient permutation test, Mantel-Haenszel, then the
    pooled Fisher test (descriptive: lesions of one patient are not independent). Each line says
    why when its test is undefined. Shared by ``lesiontrack stats`` and the report's cohort
    page."""
    return [line for line in (_permutation_line(result), _mantel_haenszel_line(result),
                              _fisher_line(result)) if line]


def _permutation_line(result: dict) -> str:
    perm = result.get("permutation") or {}
    if not perm:
        return ""
    observed = int(perm.get("observed") or 0)
    n_perm = int(perm.get("n_permutations") or 0)
    informative = int(perm.get("informative_patients") or 0)
    seed = perm.get("seed")
    return ("Within-patient permutation test (the headline; status labels shuffled among each "
            "patient's lesions" + (f", seed {seed}" if not is_missing(seed) else "")
            + f"): {observed} progressive {plural(observed, 'lesion')} with a secondary "
            f"mutation observed against {format_number(perm.get('expected'))} expected; "
            f"{p_phrase(perm.get('p_value'))} ({format_count(n_perm)} "
            f"{plural(n_perm, 'permutation')}; exact {p_phrase(perm.get('exact_p_value'))}); "
            f"{informative} informative {plural(informative, 'patient')}.")


def _mantel_haenszel_line(result: dict) -> str:
    mh = result.get("mantel_haenszel") or {}
    if not mh:
        return ""
    head = "Mantel-Haenszel odds ratio across patients: "
    strata = int(mh.get("n_strata") or 0)
    if _number(mh.get("odds_ratio")) is None:
        why = undefined_because(mh.get("note")) or "no patient can be pooled"
        return f"{head}undefined ({why})."
    ci = format_ci(mh.get("ci_low"), mh.get("ci_high"))
    if not ci:
        ci = "no confidence interval (a pooled cell is empty)"
    return (f"{head}{format_ratio(mh.get('odds_ratio'))}, {ci}, "
            f"{p_phrase(mh.get('p_value'))} ({strata} informative {plural(strata, 'patient')}).")


def _fisher_line(result: dict) -> str:
    fisher = result.get("fisher") or {}
    if not fisher:
        return ""
    head = ("Fisher exact test on pooled lesions (descriptive only: lesions of one patient are "
            "not independent; one-sided, more secondary mutations in progressive lesions): ")
    if _number(fisher.get("p_value")) is None:
        why = undefined_because(fisher.get("note")) or "the table cannot be tested"
        return f"{head}undefined ({why})."
    ci = format_ci(fisher.get("ci_low"), fisher.get("ci_high"))
    estimator = fisher.get("estimator")
    return (f"{head}odds ratio {format_ratio(fisher.get('odds_ratio'))}"
            + (f" ({estimator})" if estimator else "") + (f", {ci}" if ci else "")
            + f", {p_phrase(fisher.get('p_value'))}.")


#: A patient's confinement (:data:`lesiontrack.patterns.CONFINEMENTS`) in words.
CONFINEMENT_WORDS = {"confined": "yes", "not_confined": "no",
                     "no_secondary": "no secondary mutation", "not_assessable": "not assessable"}


def pattern_basis(row: dict) -> str:
    """Where a patient's pattern comes from, in words, with the lesion counts."""
    sequenced = (f"{row['n_progressive']} progressive, {row['n_controlled']} controlled "
                 "sequenced")
    source = row.get("pattern_source", "sequenced lesions")
    if source == "radiology":
        return (f"radiology: {row['radiology_progressive']} progressive, "
                f"{row['radiology_controlled']} controlled on imaging; {sequenced}")
    if source == "sequenced lesions":
        return sequenced
    return f"{source}; {sequenced}"


def resistance_lines(result: dict) -> list[str]:
    """The heterogeneity of resistance and the drug coverage in words (none without the
    ``heterogeneity`` key)."""
    from .resistance import heterogeneity_words

    found = result.get("heterogeneity")
    if not found:
        return []
    lines = [f"heterogeneity of resistance: {heterogeneity_words(found)}"]
    with_secondary = [row for row in result.get("patients") or []
                      if row.get("secondary_lesions")]
    if with_secondary:
        uncovered = sum(not row.get("drugs_covering_all_secondary_lesions")
                        for row in with_secondary)
        n = len(with_secondary)
        lines.append(f"drug coverage (summarises published series; not a treatment "
                     f"recommendation): in {uncovered} of {n} {plural(n, 'patient')} with "
                     f"secondary mutations no single drug is reported active against all of "
                     f"them in every lesion")
    return lines


def stats_text(result: dict) -> str:
    """The text summary of ``lesiontrack stats``: the headline within-patient test first, then
    the lesion 2x2 table with the lesions left out as not evaluable, the descriptive pooled test
    and each patient's pattern and confinement."""
    t = result.get("lesion_table") or {}
    n_patients = int(result.get("n_patients") or 0)
    perm, mh, fisher = (_permutation_line(result), _mantel_haenszel_line(result),
                        _fisher_line(result))
    lines = [line for line in (perm, mh) if line]
    lines += [
        f"lesions tested: {format_count(result.get('n_lesions_tested'))} in "
        f"{format_count(n_patients)} {plural(n_patients, 'patient')}; not evaluable (left "
        f"out): {format_count(t.get('progressive_not_evaluable') or 0)} progressive, "
        f"{format_count(t.get('controlled_not_evaluable') or 0)} controlled",
        "                      with secondary  without",
        f"  progressive lesions {format_count(t.get('progressive_with_secondary')):>14}  "
        f"{format_count(t.get('progressive_without')):>7}",
        f"  controlled lesions  {format_count(t.get('controlled_with_secondary')):>14}  "
        f"{format_count(t.get('controlled_without')):>7}",
        *([fisher] if fisher else []),
        *resistance_lines(result),
        "patients:",
    ]
    for row in result.get("patients") or []:
        confinement = row.get("confinement") or {
            True: "confined", False: "not_confined"}.get(
            row.get("secondary_confined_to_progressive"), "no_secondary")
        lines.append(f"  {row['patient_id']}: {row['pattern']} ({pattern_basis(row)}); "
                     "secondary confined to progressive lesions: "
                     f"{CONFINEMENT_WORDS.get(confinement, confinement)}")
    lines.append("For research use only, not for clinical decisions.")
    return "\n".join(lines) + "\n"


#: The endpoints' names in the text output.
ENDPOINT_NAMES = {"pfs": "Progression-free survival", "os": "Overall survival"}


def outcomes_text(result: dict) -> str:
    """A short plain-text summary of :func:`lesiontrack.outcomes.outcomes` (the ``outcomes``
    command's default output)."""
    lines = []
    for endpoint, summary in result.items():
        lines.append(f"{ENDPOINT_NAMES.get(endpoint, endpoint)} by {summary['by']} "
                     "(months since progression_date, the start of salvage follow-up; "
                     "Kaplan-Meier):")
        if summary.get("event_definition"):
            lines.append(f"  event: {summary['event_definition']}")
        width = max([len(name) for name in summary["groups"]] + [5])
        for name, g in summary["groups"].items():
            lo, hi = g["median_ci"]
            ci = f"95% CI {format_months(lo)} to {format_months(hi)}"
            lines.append(f"  {name:<{width}}  n={g['n']:<3} events={g['events']:<3} "
                         f"median {format_months(g['median'])} ({ci}); "
                         f"6 months {format_share(g['survival_6m'])}, "
                         f"12 months {format_share(g['survival_12m'])}")
        if summary["logrank_p"] is None:
            text = "  log-rank test: undefined (fewer than two groups, or no event)"
        else:
            text = f"  log-rank {p_phrase(summary['logrank_p'])}"
        if summary["hazard_ratio"] is not None:
            other = next(n for n in summary["groups"] if n != summary["reference_group"])
            lo, hi = summary["hazard_ratio_ci"] or (None, None)
            ci = format_ci(lo, hi)
            text += (f"; hazard ratio {other} vs {summary['reference_group']} "
                     f"{format_ratio(summary['hazard_ratio'])}" + (f" ({ci})" if ci else ""))
        elif summary.get("note"):
            text += f"; {summary['note']}"
        lines.append(text)
    lines.append("For research use only, not for clinical decisions.")
    return "\n".join(lines) + "\n"
