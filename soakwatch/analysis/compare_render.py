"""Markdown for ``soakwatch compare``: one column per run, one row per measure, marks for regressions.

Made to be read in ten seconds, in a terminal as well as rendered: columns are padded
so the raw text lines up; a regression is bold with ``✗``, an improvement beyond the
tolerance gets ``✓``; every later run shows its change against the first in parentheses
(percent, or percentage points for ratios). Below the table: what regressed, in words,
and which run directory each column is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from soakwatch.analysis.compare import Comparison, Row, compare_runs
from soakwatch.config.errors import UsageError
from soakwatch.core.reports import ReportSection

__all__ = ["TableCell", "comparison_table", "render_markdown", "run_compare"]

#: one cell of the comparison as plain data: (text, outcome: "regression", "better" or "")
TableCell = tuple[str, str]

MARK_REGRESSION = "✗"
MARK_BETTER = "✓"
#: a change smaller than this (relative) is shown as ±0%
TINY_CHANGE = 0.005


def _fmt_value(row: Row, i: int) -> str:
    v = row.values[i]
    if v is None:
        return "—"
    if isinstance(v, str):
        return v.upper() if row.measure.key == "gate" and v == "fail" else v
    kind = row.measure.fmt
    if kind == "pct":
        return f"{v * 100:.2f}"
    if kind == "int" or (abs(v) >= 1000 and v == int(v)):
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _fmt_change(row: Row, i: int) -> str:
    if i == 0 or row.measure.worse is None or row.measure.flag:
        return ""
    base, v = row.values[0], row.values[i]
    if not isinstance(v, int | float) or not isinstance(base, int | float):
        return ""
    if row.measure.ratio:
        return f" ({(v - base) * 100:+.2f}pp)"
    if base == 0:
        return "" if v == 0 else " (was 0)"
    ch = row.change(i) or 0.0
    return " (±0%)" if abs(ch) < TINY_CHANGE else f" ({ch * 100:+.0f}%)"


def _cell(row: Row, i: int) -> str:
    text = _fmt_value(row, i) + _fmt_change(row, i)
    outcome = row.outcomes[i] if i < len(row.outcomes) else ""
    if outcome == "regression":
        return f"**{text} {MARK_REGRESSION}**"
    if outcome == "better":
        return f"{text} {MARK_BETTER}"
    return text


def comparison_table(cmp: Comparison) -> tuple[list[str], list[list[TableCell]]]:
    """The comparison table as plain data for other renderers (the HTML page): header, and per row
    the measure then one (text, outcome) per run, with the same text as the Markdown."""
    labels = [r.label for r in cmp.runs]
    header = ["measure", *(f"{lab} (baseline)" if i == 0 and len(labels) > 1 else lab for i, lab in enumerate(labels))]
    body: list[list[TableCell]] = []
    for row in cmp.rows:
        cells: list[TableCell] = [(row.label, "")]
        for i in range(len(cmp.runs)):
            outcome = row.outcomes[i] if i < len(row.outcomes) else ""
            mark = {"regression": f" {MARK_REGRESSION}", "better": f" {MARK_BETTER}"}.get(outcome, "")
            cells.append((_fmt_value(row, i) + _fmt_change(row, i) + mark, outcome))
        body.append(cells)
    return header, body


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append("|" + "|".join([":" + "-" * (widths[0] + 1)] + ["-" * (w + 1) + ":" for w in widths[1:]]) + "|")
    for r in body:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_markdown(cmp: Comparison) -> str:
    """The comparison as Markdown: title, table, legend, regressions, runs."""
    labels = [r.label for r in cmp.runs]
    lines = [f"# Compare: {' vs '.join(labels)}", ""]
    header = ["measure", *(f"{lab} (baseline)" if i == 0 and len(labels) > 1 else lab for i, lab in enumerate(labels))]
    body = [[row.label] + [_cell(row, i) for i in range(len(cmp.runs))] for row in cmp.rows]
    lines += _table(header, body)
    lines += [
        "",
        f"{MARK_REGRESSION} worse than the first run beyond tolerance (a regression) · "
        f"{MARK_BETTER} better beyond tolerance · (change against the first run; pp = percentage points)",
        "",
    ]
    regs = cmp.regressions
    if len(cmp.runs) < 2:
        lines.append("One run: nothing to compare against.")
    elif not regs:
        lines.append(f"**No regression** against `{labels[0]}` beyond tolerance.")
    else:
        lines.append(f"**{len(regs)} regression{'s' if len(regs) != 1 else ''}** against `{labels[0]}`:")
        lines.append("")
        for row, i in regs:
            was, now = _fmt_value(row, 0), _fmt_value(row, i)
            lines.append(f"- {labels[i]}: {row.label} {was} → {now}{_fmt_change(row, i)}, tolerance {row.tolerance}")
    lines += ["", "Runs:", ""]
    for i, r in enumerate(cmp.runs, start=1):
        notes = []
        if not r.complete:
            notes.append("incomplete")
        if r.rebuilt:
            notes.append("summary rebuilt from the run directory")
        note = f" ({', '.join(notes)})" if notes else ""
        lines.append(f"{i}. {r.label}: `{r.run_dir}`{note}")
    given = ", ".join(f"{k}={v}" for k, v in cmp.tolerances.items())
    lines += ["", f"Tolerances: defaults (docs/compare.md){'; given: ' + given if given else ''}.", ""]
    return "\n".join(lines)


def run_compare(
    run_dirs: Sequence[str],
    tolerances: Iterable[str],
    sections: Sequence[ReportSection],
    *,
    as_json: bool,
    out: str | None,
    also: Callable[[Comparison], object] | None = None,
) -> int:
    """The ``compare`` command: print (or write) the comparison; 1 when something regressed, else 0.
    ``sections`` rebuild the summary of a run that has none (still going, or killed); ``also`` is
    given the comparison too (the CLI writes the HTML page with it)."""
    cmp = compare_runs([Path(d) for d in run_dirs], tolerances, sections=sections)
    if also is not None:
        also(cmp)
    text = json.dumps(cmp.to_json(), indent=2) + "\n" if as_json else render_markdown(cmp)
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write: {exc.strerror}", where="--out", value=out) from None
        print(f"wrote {out}: {len(cmp.regressions)} regression(s)")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 1 if cmp.regressions else 0
