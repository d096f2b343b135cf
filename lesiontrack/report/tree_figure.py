"""Figures of a patient's lesion tree (patient page): the tree, pairwise Jaccard similarity and
the private fraction of each lesion.

Drawing never computes the science: the renderer turns a :class:`lesiontrack.phylo_tree.PatientTree`
into :class:`TreeNode` rows (branches, their mutation counts and marked mutations) and the
heterogeneity values already computed; these functions only lay them out. Deterministic SVG
text; every input text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from .figures import INK, MUTED, ORIGIN_COLOURS, STATUS_COLOURS, clip, tint

#: Mutation names written beside one branch (the rest are counted, and listed in its tooltip).
MAX_MARKS_SHOWN = 3
#: Marked mutations listed in a branch's tooltip.
MAX_MARKS_LISTED = 12
CONVERGENT_COLOUR = "#B31B1B"


@dataclass(frozen=True)
class TreeMark:
    """A mutation marked on its branch: a secondary mutation, or one flagged convergent."""

    label: str
    origin: str
    convergent: bool


@dataclass
class TreeNode:
    """A node of the drawn tree and the branch above it.

    ``length``: mutations placed on the branch above the node; ``name`` and ``status`` for a
    leaf (a lesion); ``marks``: the marked mutations of the branch."""

    length: int
    name: str = ""
    status: str = ""
    children: list[TreeNode] = field(default_factory=list)
    marks: list[TreeMark] = field(default_factory=list)


def _leaves(node: TreeNode) -> list[TreeNode]:
    if not node.children:
        return [node]
    return [leaf for child in node.children for leaf in _leaves(child)]


def _depth(node: TreeNode) -> int:
    return 1 + max((_depth(c) for c in node.children), default=0)


def lesion_tree_svg(root: TreeNode, *, method: str = "", contradictions: int = 0) -> Markup:
    """A rooted cladogram drawn left to right: the germline at the left, then the trunk to the
    tumour's common ancestor, the lesions at the right (coloured by status). Each branch says how
    many mutations it carries; secondary mutations are marked on their branch (a diamond in the
    secondary colour and their names), a mutation flagged convergent with a red ring and
    "convergent". ``root`` is the tumour's common ancestor (its ``length``: the trunk)."""
    leaves = _leaves(root)
    levels = _depth(root)
    width, left, label_w, top = 860, 70, 150, 30
    leaf_x = width - label_w - 10
    step = (leaf_x - left - 60) / max(levels - 1, 1)
    row = 58
    height = top + row * len(leaves) + 10
    y_of: dict[int, float] = {}
    x_of: dict[int, float] = {}
    for i, leaf in enumerate(leaves):
        y_of[id(leaf)] = top + row * i + row / 2

    def place(node: TreeNode, depth: int) -> None:
        x_of[id(node)] = leaf_x if not node.children else left + 60 + step * depth
        for child in node.children:
            place(child, depth + 1)
        if node.children:
            y_of[id(node)] = sum(y_of[id(c)] for c in node.children) / len(node.children)

    place(root, 0)
    title = (f"Lesion tree ({method} search, {contradictions} "
             f"{'contradiction' if contradictions == 1 else 'contradictions'}): germline at the "
             "left, lesions at the right coloured by status; each branch gives the number of "
             "mutations placed on it; secondary mutations are marked on their branches")
    out = [f'<svg class="lesion-tree" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}" '
           'aria-labelledby="tree-title">',
           f'<title id="tree-title">{escape(title)}</title>']
    germline_x, root_y = left - 50, y_of[id(root)]
    out.append(f'<circle cx="{germline_x}" cy="{root_y:.1f}" r="5" fill="{MUTED}"/>'
               f'<text x="{germline_x}" y="{root_y - 10:.1f}" text-anchor="middle" '
               f'class="t-detail">germline</text>')
    branches: list[str] = []
    labels: list[str] = []

    def branch(node: TreeNode, x0: float, y0: float) -> None:
        x1, y1 = x_of[id(node)], y_of[id(node)]
        if y0 != y1:
            branches.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x0:.1f}" y2="{y1:.1f}" '
                            f'stroke="{INK}" stroke-width="1.4"/>')
        kind = "trunk" if node is root else ("private" if not node.children else "shared")
        what = f"{node.length} {'mutation' if node.length == 1 else 'mutations'} ({kind})"
        marked = "; ".join(f"{m.label} ({m.origin}{', convergent' if m.convergent else ''})"
                           for m in node.marks[:MAX_MARKS_LISTED])
        if len(node.marks) > MAX_MARKS_LISTED:
            marked += f"; and {len(node.marks) - MAX_MARKS_LISTED} more"
        tooltip = what + (f": {marked}" if marked else "")
        stroke = 2.4 if node.length else 1.2
        dash = "" if node.length else ' stroke-dasharray="3 3"'
        branches.append(f'<line x1="{x0:.1f}" y1="{y1:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
                        f'stroke="{INK}" stroke-width="{stroke}"{dash}>'
                        f'<title>{escape(tooltip)}</title></line>')
        middle = (x0 + x1) / 2
        labels.append(f'<text x="{middle:.1f}" y="{y1 - 5:.1f}" text-anchor="middle" '
                      f'class="t-count">{node.length}</text>')
        if node.marks:
            secondary = ORIGIN_COLOURS["secondary"]
            any_convergent = any(m.convergent for m in node.marks)
            colour = secondary if any(m.origin == "secondary" for m in node.marks) else (
                ORIGIN_COLOURS.get(node.marks[0].origin, ORIGIN_COLOURS["undetermined"]))
            d = 5.5
            labels.append(
                f'<g class="t-mark"><title>{escape(tooltip)}</title>'
                f'<path d="M{middle - 12:.1f},{y1 - d:.1f} l{d},{d} l-{d},{d} l-{d},-{d} z" '
                f'fill="{colour}" stroke="{INK}" stroke-width="0.6"/>'
                + (f'<circle cx="{middle - 12:.1f}" cy="{y1:.1f}" r="{d + 3}" fill="none" '
                   f'stroke="{CONVERGENT_COLOUR}" stroke-width="1.6"/>' if any_convergent
                   else "") + "</g>")
            shown = node.marks[:MAX_MARKS_SHOWN]
            words = ", ".join(clip(m.label, 18) for m in shown)
            more = len(node.marks) - len(shown)
            if more:
                words += f" +{more}"
            if any_convergent:
                words += " · convergent"
            labels.append(f'<text x="{middle:.1f}" y="{y1 + 15:.1f}" text-anchor="middle" '
                          f'class="t-mark-label"'
                          + (f' fill="{CONVERGENT_COLOUR}"' if any_convergent else "")
                          + f'>{escape(clip(words, 46))}</text>')
        for child in node.children:
            branch(child, x1, y1)

    branch(root, germline_x, root_y)
    out.extend(branches)
    out.extend(labels)
    for leaf in leaves:
        x, y = x_of[id(leaf)], y_of[id(leaf)]
        colour = STATUS_COLOURS.get(leaf.status, STATUS_COLOURS["unknown"])
        out.append(f'<g class="t-leaf"><title>{escape(leaf.name)}: '
                   f'{escape(leaf.status or "unknown")}</title>'
                   f'<rect x="{x + 4}" y="{y - 13}" width="{label_w - 8}" height="26" rx="6" '
                   f'fill="{tint(colour, 0.3)}" stroke="{colour}" stroke-width="1.5"/>'
                   f'<rect x="{x + 4}" y="{y - 13}" width="7" height="26" rx="3" '
                   f'fill="{colour}"/>'
                   f'<text x="{x + 18}" y="{y + 4.5:.1f}" class="t-label">'
                   f'{escape(clip(leaf.name, 14))}<tspan class="t-detail" dx="6">'
                   f'{escape(clip(leaf.status, 12))}</tspan></text></g>')
    out.append("</svg>")
    return Markup("\n".join(out))


def _shade(value: float | None) -> str:
    if value is None:
        return "#EAEEF2"
    return tint("#0072B2", 0.08 + 0.85 * max(0.0, min(1.0, value)))


def jaccard_svg(lesions: Sequence[str], pairs: Sequence[dict]) -> Markup:
    """A lesion x lesion grid of Jaccard similarity (darker: more alike; grey: undefined), the
    value and the number of mutations evaluable in both in each cell's tooltip. ``pairs``:
    dicts with ``lesion_a``, ``lesion_b``, ``jaccard``, ``n_evaluable``."""
    value = {}
    for pair in pairs:
        value[(pair["lesion_a"], pair["lesion_b"])] = pair
        value[(pair["lesion_b"], pair["lesion_a"])] = pair
    n = len(lesions)
    cell, label_w, head_h = 46, 90, 24
    width, height = label_w + cell * n + 8, head_h + cell * n + 8
    out = [f'<svg class="jaccard" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           'aria-labelledby="jaccard-title">',
           '<title id="jaccard-title">Jaccard similarity of each pair of lesions: mutations '
           'detected in both / detected in either, over the mutations evaluable in both</title>']
    for j, lesion in enumerate(lesions):
        out.append(f'<text x="{label_w + cell * j + cell / 2}" y="{head_h - 8}" '
                   f'text-anchor="middle" class="t-detail">{escape(clip(lesion, 7))}</text>')
    for i, lesion in enumerate(lesions):
        y = head_h + cell * i
        out.append(f'<text x="{label_w - 6}" y="{y + cell / 2 + 4}" text-anchor="end" '
                   f'class="t-detail">{escape(clip(lesion, 12))}</text>')
        for j, other in enumerate(lesions):
            x = label_w + cell * j
            if i == j:
                out.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" '
                           f'height="{cell - 2}" fill="#FFFFFF" stroke="#D0D7DE"/>')
                continue
            pair = value.get((lesion, other), {})
            j_value = pair.get("jaccard")
            text = "n.e." if j_value is None else f"{j_value:.2f}"
            ink = "#FFFFFF" if j_value is not None and j_value > 0.55 else INK
            tip = (f"{lesion} and {other}: Jaccard {text} over {pair.get('n_evaluable', 0)} "
                   "mutations evaluable in both")
            out.append(f'<g><title>{escape(tip)}</title><rect x="{x + 1}" y="{y + 1}" '
                       f'width="{cell - 2}" height="{cell - 2}" fill="{_shade(j_value)}"/>'
                       f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                       f'class="t-count" fill="{ink}">{text}</text></g>')
    out.append("</svg>")
    return Markup("\n".join(out))


def private_fraction_svg(lesions: Sequence[tuple[str, str]],
                         fractions: Mapping[str, float | None]) -> Markup:
    """Horizontal bars: per lesion (``(lesion, status)``, bar coloured by status), the fraction
    of its decidable detected mutations absent from every other lesion ("n.e." where none is
    decidable)."""
    bar_w, label_w, row, top = 420, 110, 26, 8
    width, height = label_w + bar_w + 70, top + row * len(lesions) + 22
    out = [f'<svg class="private-fraction" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           'aria-labelledby="private-title">',
           '<title id="private-title">Private fraction of each lesion: of its detected '
           'mutations that are decidable, the fraction absent from every other lesion</title>']
    for i, (lesion, status) in enumerate(lesions):
        y = top + row * i
        value = fractions.get(lesion)
        colour = STATUS_COLOURS.get(status, STATUS_COLOURS["unknown"])
        text = "n.e." if value is None else f"{value:.0%}"
        length = 0.0 if value is None else bar_w * max(0.0, min(1.0, value))
        out.append(f'<g><title>{escape(lesion)} ({escape(status)}): private fraction '
                   f'{text}</title>'
                   f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" class="t-detail">'
                   f'{escape(clip(lesion, 12))}</text>'
                   f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="18" '
                   f'fill="#F6F8FA" stroke="#D0D7DE"/>'
                   f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="18" '
                   f'fill="{colour}"/>'
                   f'<text x="{label_w + bar_w + 6}" y="{y + 17}" class="t-count">{text}</text>'
                   '</g>')
    y = top + row * len(lesions) + 14
    out.append(f'<text x="{label_w}" y="{y}" class="t-detail">0%</text>'
               f'<text x="{label_w + bar_w}" y="{y}" text-anchor="end" class="t-detail">100%'
               '</text>')
    out.append("</svg>")
    return Markup("\n".join(out))
