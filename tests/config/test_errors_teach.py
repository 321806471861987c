"""Errors that teach: the valid fields and the nearest one, the list syntax, --root. Exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

from soakwatch.config.profile import load_profile
from tests.helpers import run_cli


def fails_with_2(args: list[str], cwd: Path) -> str:
    res = run_cli(args, cwd=cwd, timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("soakwatch: error: ")
    return res.stderr


def test_an_unknown_field_names_the_valid_fields_and_the_nearest(tmp_path: Path) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text(
        'duration = "1m"\n[[nodes]]\nid = "a"\ncommand = ["sleep", "9"]\n'
        '[nodes.report_feilds]\nheight = "consensus.height"\n'
    )
    err = fails_with_2(["validate", str(prof)], tmp_path)
    assert f"{prof}: nodes.0.report_feilds: unknown field 'report_feilds'; did you mean 'report_fields'?" in err
    assert "report_dir, report_pattern, report_fields, ready, depends_on" in err


def test_an_unknown_top_level_field_without_a_near_one_lists_the_fields(tmp_path: Path) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text("calls = 3\nzzzzzz = 1\n")
    err = fails_with_2(["validate", str(prof)], tmp_path)
    assert "unknown field 'zzzzzz' (the fields of the top level: name, description, extends, target" in err
    assert "did you mean" not in err


def test_a_wrong_type_shows_the_accepted_syntax(tmp_path: Path) -> None:
    err = fails_with_2(["validate", "smoke", "--set", "watch.unchanged=5"], tmp_path)
    assert "watch.unchanged: Input should be a valid list (got 5)" in err
    assert """write it as unchanged = ["dag/**"] in the profile, or --set 'watch.unchanged=["dag/**"]'""" in err
    assert "[from --set watch.unchanged]" in err


def test_a_bare_string_is_a_list_of_one(tmp_path: Path) -> None:
    sets = ["--set", "watch.files=state/log.jsonl", "--set", "gates=[]"]
    # validate makes run's checks, so the target must import: the demo engine stands in for smoke's
    res = run_cli(["validate", "--show", "smoke", *sets, "--target", "soakwatch.demo:run_model"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert '"files": [\n      "state/log.jsonl"\n    ]' in res.stdout
    prof = tmp_path / "p.toml"
    prof.write_text('calls = 3\n[watch]\nfiles = "state/log.jsonl"\nunchanged = "dag/**"\n')
    p = load_profile(str(prof))
    assert (p.watch.files, p.watch.unchanged) == (["state/log.jsonl"], ["dag/**"])


def test_a_target_module_that_does_not_import_suggests_root(tmp_path: Path) -> None:
    (tmp_path / "project" / "engine").mkdir(parents=True)
    (tmp_path / "project" / "engine" / "__init__.py").write_text("def run_model(case):\n    return case\n")
    for isolation in ("process", "inline"):
        err = fails_with_2(
            ["run", "--target", "engine:run_model", "--calls", "2", "--no-tui", "--isolation", isolation], tmp_path
        )
        assert f"'engine' is not in the sandbox root {tmp_path} nor installed" in err
        assert "with --root DIR" in err
    # and with the hint followed, it runs
    res = run_cli(
        ["run", "--target", "engine:run_model", "--calls", "2", "--no-tui", "--root", "project", "--out-dir", "out"],
        tmp_path,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_chaos_plan_entry_with_an_unknown_field_names_the_nearest(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('[[chaos]]\nname = "k"\naction = "kill_node"\nnod = "node1"\n')
    err = fails_with_2(["run", "--profile", "soak_smoke", "--chaos-plan", str(plan), "--no-tui"], tmp_path)
    assert f"{plan}: chaos[0].nod: unknown field 'nod'; did you mean 'node'? (the fields of [[chaos]]: name," in err
