"""Colours, units and titles of the HTML report, in one place."""

from __future__ import annotations

__all__ = ["KIND_TITLES", "MARKER_KINDS", "PALETTE", "STATUS_COLORS", "UNITS", "color", "unit_of"]

#: series colours, in order (colour-blind friendly: Okabe–Ito plus two greys)
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
    "#7f7f7f",
    "#b07aa1",
)

#: gate status → band colour (drawn behind the gate's chart)
STATUS_COLORS = {
    "pass": "rgba(0,158,115,0.10)",
    "warn": "rgba(230,159,0,0.22)",
    "fail": "rgba(213,94,0,0.25)",
    "exempt": "rgba(127,127,127,0.20)",
    "insufficient_data": "rgba(127,127,127,0.08)",
}

#: event kind → (marker kind, colour); chaos is a region (start to end), the others a line
MARKER_KINDS = {
    "chaos": "rgba(204,121,167,0.22)",
    "operator": "#0072B2",
    "truncate": "#E69F00",
    "abort": "#D55E00",
    "node": "#7f7f7f",
    "collector": "#b07aa1",
}

#: unit of a column kind (the part before ``[``), by name or suffix
UNITS = {
    "rss_mb": "MB",
    "size_kb": "KB",
    "cpu_pct": "%",
    "rss_slope": "MB/h",
    "rss_limit_eta_s": "s",
    "scrape_ms": "ms",
}

#: chart titles of the column kinds soakwatch writes itself; any other kind is titled by its name
KIND_TITLES = {
    "rss_mb": "RSS per process (MB), fitted slope dashed",
    "size_kb": "Watched file size (KB), truncations marked",
    "lines": "Watched file lines",
    "delta_lines": "Snapshot Δ lines per interval",
    "corrupt_reads": "Corrupt reads of watched files",
    "cpu_pct": "CPU per process (%)",
    "threads": "Threads per process",
    "open_files": "Open files per process",
    "rss_growth": "RSS growth since warm-up (×)",
    "rss_slope": "RSS slope per process (MB/h)",
    "rss_slope_conf": "RSS slope confidence",
    "alive": "Node alive (1) / down (0)",
    "restarts": "Node restarts",
}


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def unit_of(kind: str) -> str:
    if kind in UNITS:
        return UNITS[kind]
    for suffix, unit in (("_ms", "ms"), ("_mb", "MB"), ("_kb", "KB"), ("_pct", "%"), ("_s", "s")):
        if kind.endswith(suffix):
            return unit
    return ""
