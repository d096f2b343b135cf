"""Batches of patients: the report and ``--calls`` tables hold one batch at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def patient_batches(sheet: pd.DataFrame, size: int) -> list[list[str]]:
    """The sheet's patients in plain sorted order, cut into batches of at least ``size`` (the
    last may be smaller), never between patients that share a calls file or a BAM: a file is
    read once, and its checks see all of its rows."""
    order = sorted(set(sheet["patient_id"]))
    position = {p: i for i, p in enumerate(order)}
    reach = list(range(len(order)))  # the last position that must share i's batch
    for column in ("calls_path", "bam_path"):
        if column not in sheet:
            continue
        for path, rows in sheet.groupby(column, sort=False)["patient_id"]:
            if not path:
                continue
            spots = [position[p] for p in rows]
            reach[min(spots)] = max(reach[min(spots)], max(spots))
    batches: list[list[str]] = []
    current: list[str] = []
    end = -1
    for i, patient in enumerate(order):
        current.append(patient)
        end = max(end, reach[i])
        if i >= end and len(current) >= size:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches
