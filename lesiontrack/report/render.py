"""Render the pages: the Jinja environment and the pool of workers writing patient pages.

Each patient's HTML, TSV and JSON are written from its view (:func:`lesiontrack.report.views.
patient_view`), in forked worker processes when ``jobs`` > 1; the pages are the same for every
``jobs``. What the cohort page needs of each patient comes back
(:func:`lesiontrack.report.cohort.cohort_part`).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from .. import progress as progress_bars
from ..output import frame_to_tsv
from ..text import as_text
from ..text import format_percent as _percent
from ..version import __version__
from . import figures, views
from .cohort import cohort_part
from .outdir import NOTICE, write_text


def environment() -> jinja2.Environment:
    """The report's Jinja environment: its templates, autoescaping, the notice and colours,
    and the ``percent`` and ``breakable`` filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lesiontrack.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.globals.update(
        version=__version__, notice=NOTICE, origin_colours=figures.ORIGIN_COLOURS,
        status_colours=figures.STATUS_COLOURS,
        css=Markup(env.loader.get_source(env, "report.css")[0]),  # static, no input text
    )
    env.filters["percent"] = _percent
    env.filters["breakable"] = breakable
    return env


def breakable(text) -> Markup:
    """Escaped text with line-break opportunities after ``_ . / - :`` (long identifiers)."""
    return Markup(re.sub(r"([_./:-])", r"\1<wbr>", str(escape(as_text(text)))))


def progress_bar(enabled: bool | None, total: int):
    """A progress bar of ``total`` patients on stderr, only when stderr is a terminal (or
    ``enabled``); else None."""
    if enabled is None:
        enabled = sys.stderr is not None and sys.stderr.isatty()
    if not enabled:
        return None
    with progress_bars.enabled(True):
        return progress_bars.bar(total, "report", "patient")


_WORKER: tuple | None = None  # (patient_dir, ctx, page) inherited by forked workers


def _render_one(patient_dir: Path, ctx: views.PatientContext, page: dict, patient: str,
                template=None) -> dict:
    """Write one patient's HTML, TSV and JSON; return the view without its heavy parts."""
    template = template or environment().get_template("patient.html")
    view = views.patient_view(ctx, patient)
    name = ctx.files[patient]
    rows = ctx.origins[ctx.origins["patient_id"] == patient]
    write_text(patient_dir / f"{name}.html", template.render(page=page, p=view, root="../"))
    write_text(patient_dir / f"{name}.tsv", frame_to_tsv(rows))
    write_text(patient_dir / f"{name}.json", views.patient_json(ctx, patient, view))
    return cohort_part(view, ctx.patterns.get(patient))


def _render_chunk(patients: list[str]) -> list[tuple[str, dict]]:
    patient_dir, ctx, page = _WORKER
    template = environment().get_template("patient.html")
    return [(p, _render_one(patient_dir, ctx, page, p, template)) for p in patients]


def render_patients(patient_dir: Path, patients: list[str], ctx: views.PatientContext, page: dict,
                     jobs: int, bar=None) -> dict[str, dict]:
    """Every patient's pages, in ``jobs`` forked worker processes when jobs > 1 (pages are
    the same for every ``jobs``); returns what the cohort page needs of each patient
    (:func:`~lesiontrack.report.cohort.cohort_part`).
    ``bar``: a progress bar to advance, or None."""
    global _WORKER
    import multiprocessing

    done: dict[str, dict] = {}
    if jobs > 1 and len(patients) > 1 and "fork" in multiprocessing.get_all_start_methods():
        size = max(1, min(50, len(patients) // (jobs * 4) or 1))
        chunks = [patients[i:i + size] for i in range(0, len(patients), size)]
        _WORKER = (patient_dir, ctx, page)
        from concurrent.futures import ProcessPoolExecutor

        from ..workers import stop_worker_pool

        try:
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                try:
                    for chunk in pool.map(_render_chunk, chunks):
                        done.update(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                except BaseException:  # an error or SIGTERM: never wait for the workers
                    stop_worker_pool(pool)
                    raise
        finally:
            _WORKER = None
        return done
    template = environment().get_template("patient.html")
    for patient in patients:
        done[patient] = _render_one(patient_dir, ctx, page, patient, template)
        if bar is not None:
            bar.update(1)
    return done

