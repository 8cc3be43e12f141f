"""The GitHub Actions workflow for course repositories (.github/workflows/course.yml)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ROOT

yaml = pytest.importorskip("yaml")
WORKFLOW = ROOT / ".github" / "workflows" / "course.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    assert "ubuntu" in job["runs-on"]
    return list(job["steps"])


def _runs(steps: list[dict[str, Any]]) -> list[str]:
    return [s.get("run", "") for s in steps]


def test_runs_on_every_push_and_pull_request(workflow: dict[Any, Any]) -> None:
    # YAML 1.1 reads the bare key `on` as True
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict) and {"push", "pull_request"} <= set(triggers)
    for event in ("push", "pull_request"):  # no branch or path filters: every push, every PR
        assert not triggers[event], f"{event} is filtered: {triggers[event]}"


def test_python_311(steps: list[dict[str, Any]]) -> None:
    setup = [s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert len(setup) == 1 and str(setup[0]["with"]["python-version"]) == "3.11"
    assert any(str(s.get("uses", "")).startswith("actions/checkout@") for s in steps[:1])


def test_cpu_torch_before_the_course_package(steps: list[dict[str, Any]]) -> None:
    runs = _runs(steps)
    torch = [i for i, r in enumerate(runs) if "pip install" in r and "torch" in r]
    course = [i for i, r in enumerate(runs) if "pip install -e ." in r]
    assert len(torch) == 1 and len(course) == 1 and torch[0] < course[0]
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch[0]]


def test_bubblewrap_from_apt(steps: list[dict[str, Any]]) -> None:
    apt = [r for r in _runs(steps) if "apt-get install" in r]
    assert len(apt) == 1 and "bubblewrap" in apt[0]


def test_last_step_validates(steps: list[dict[str, Any]]) -> None:
    assert steps[-1]["run"].strip() == "nngrade validate"
    installs = [i for i, r in enumerate(_runs(steps)) if "install" in r]
    assert max(installs) < len(steps) - 1
