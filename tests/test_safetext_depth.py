"""The nesting bound of ``loads_bounded``: counted by the walk that cleans the strings (no
character-by-character pre-scan of the text in Python: the TUI decodes every snapshot with it).
A document is refused exactly when its containers nest deeper than the bound, whatever brackets
its strings hold; nesting past the parser's own limit is refused the same way, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soakwatch.config.safetext import JsonRefused, loads_bounded

#: strings full of what a text scan would have to skip
TEXTS = st.text(st.sampled_from(list('[]{}"\\a \x00é')), max_size=8)
DOCS = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXTS,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(TEXTS, kids, max_size=3),
    max_leaves=30,
)


def nesting(obj: Any) -> int:
    """Containers inside containers: [] is 1, [[]] is 2, a scalar 0."""
    if isinstance(obj, list):
        return 1 + max((nesting(v) for v in obj), default=0)
    if isinstance(obj, dict):
        return 1 + max((nesting(v) for v in obj.values()), default=0)
    return 0


@settings(max_examples=1500, deadline=None)
@given(DOCS, st.integers(min_value=1, max_value=6))
def test_refused_exactly_when_nested_deeper_than_the_bound(doc: Any, bound: int) -> None:
    text = json.dumps(doc)
    if nesting(doc) > bound:
        with pytest.raises(JsonRefused, match=f"deeper than {bound} levels"):
            loads_bounded(text, max_depth=bound)
    else:
        assert loads_bounded(text, max_depth=bound) == doc


@pytest.mark.parametrize("depth", [64, 65, 500, 200_000])
def test_the_default_bound_and_nesting_past_the_parsers_limit(depth: int) -> None:
    text = "[" * depth + "]" * depth
    if depth <= 64:
        assert nesting(loads_bounded(text)) == depth
    else:
        with pytest.raises(JsonRefused, match="deeper than 64 levels"):
            loads_bounded(text)


def test_brackets_in_strings_do_not_count() -> None:
    doc = {"a": "[[[[[[[[[[{{{{{{{{", "b": ['"]]]]', "\\[[["]}
    assert loads_bounded(json.dumps(doc), max_depth=2) == doc
