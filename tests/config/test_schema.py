"""The profile reference and the JSON Schema are generated from the models and agree with them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from soakwatch.cli import main
from soakwatch.config.builtin import builtin_profiles
from soakwatch.config.schema import model_classes, profile_markdown, profile_schema, sections

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "profile.md"
SCHEMA_FILE = REPO / "docs" / "profile.schema.json"
EXAMPLE_PROFILES = sorted(
    [*REPO.glob("examples/**/*.toml"), *REPO.glob("docs/*.toml"), *REPO.glob("profiles/templates/*/*.toml")],
    key=lambda p: str(p),
)
REGENERATE = (
    "regenerate with: soakwatch schema --markdown > docs/profile.md; soakwatch schema > docs/profile.schema.json"
)


def test_the_reference_in_docs_is_the_one_the_models_generate() -> None:
    assert DOC.read_text(encoding="utf-8") == profile_markdown(), REGENERATE


def test_the_schema_file_in_docs_is_the_one_the_models_generate() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == profile_schema(), REGENERATE


def test_every_field_of_every_model_has_a_description() -> None:
    missing = [
        f"{cls_name}.{name}"
        for cls_name, cls in model_classes().items()
        for name, info in cls.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert missing == []


def test_every_section_and_field_is_in_the_reference_with_its_description() -> None:
    doc = profile_markdown()
    classes = model_classes()
    headings = [h for h, _, _ in sections()]
    assert {c for _, c, _ in sections()} == set(classes)  # every model has a section
    for heading in headings:
        assert f"## `{heading}`" in doc
    for cls in classes.values():
        for name, info in cls.model_fields.items():
            key = info.alias or name
            rows = [line for line in doc.splitlines() if line.startswith(f"| `{key}` |")]
            assert any(info.description.replace("|", "\\|") in row for row in rows if info.description), (cls, name)


def _schema_from_cli(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["schema"]) == 0
    schema: dict[str, object] = json.loads(capsys.readouterr().out)
    return schema


def test_schema_output_validates_every_builtin_and_example_profile(capsys: pytest.CaptureFixture[str]) -> None:
    validator = jsonschema.Draft202012Validator(_schema_from_cli(capsys))
    files = [*builtin_profiles().values(), *EXAMPLE_PROFILES]
    assert len(files) >= len(builtin_profiles()) + 3 + 5  # examples, docs, the five init templates
    for path in files:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "chaos" in data and set(data) == {"chaos"}:
            continue  # a chaos plan file, not a profile
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
        assert errors == [], path


def test_schema_refuses_what_soakwatch_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    validator = jsonschema.Draft202012Validator(_schema_from_cli(capsys))
    assert not validator.is_valid({"calls": 10, "watch": {"filez": ["a"]}})
    assert not validator.is_valid({"calls": 10, "isolation": "thread"})
    assert not validator.is_valid({"calls": 0})
    assert validator.is_valid(
        {"duration": "30m", "gates": [{"name": "e", "metric": "x", "condition": "< 1", "for": 2}]}
    )


def test_schema_markdown_command_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--markdown"]) == 0
    assert capsys.readouterr().out == profile_markdown()
