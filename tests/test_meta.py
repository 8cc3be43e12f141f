"""Meta-tests: every check has points, a hint and a title; points add up; every command has help."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from autograder.cli.main import main
from autograder.engine.assignment import Assignment
from autograder.integrations.generate import assignment_ids
from tests.conftest import ROOT


class _Collector:
    def __init__(self):
        self.items = []

    def pytest_collection_modifyitems(self, items):
        self.items.extend(items)


def _collect(files):
    collector = _Collector()
    suites = ROOT / "autograder" / "suites"
    code = pytest.main([*map(str, files), "--collect-only", "-q", "--import-mode=importlib",
                        "-p", "no:cacheprovider", "--rootdir", str(suites), "-c", str(suites / "pytest.ini")],
                       plugins=[collector])
    assert code == 0
    return collector.items


@pytest.mark.parametrize("aid", assignment_ids(ROOT))
def test_checks_have_points_hints_titles_and_add_up(aid):
    asg = Assignment.load(ROOT, aid)
    for part in asg.parts:
        items = _collect([part.suite_file])
        assert items, f"{part.suite_file} has no tests"
        total = 0.0
        for item in items:
            marker = item.get_closest_marker("nngrade")
            assert marker is not None, f"{item.nodeid} has no @points"
            assert marker.kwargs["points"] > 0 and marker.kwargs["hint"].strip(), item.nodeid
            assert (item.function.__doc__ or "").strip(), f"{item.nodeid} has no docstring (its title)"
            total += marker.kwargs["points"]
        assert total == part.points, f"{aid}/{part.name}: suite {total} != cell {part.points}"


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, prefix + (name,))


@pytest.mark.parametrize("path", [p for p, _ in _commands(main)], ids=lambda p: " ".join(p))
def test_every_command_has_help_with_example(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_user_errors_are_one_line():
    result = CliRunner().invoke(main, ["grade", __file__, "--assignment", "no_such_assignment",
                                       "--course", str(ROOT)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: no assignment 'no_such_assignment'")
    assert "Traceback" not in result.output
