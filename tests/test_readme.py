"""The README's first lines give the two commands, and CI runs exactly the test command."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def commands() -> list[str]:
    head = (REPO / "README.md").read_text().splitlines()[:8]
    return [line for line in head if line.startswith("python3 -m venv")]


def test_readme_starts_with_the_two_commands():
    run, test = commands()
    assert run.endswith("inftool run recipes/bfcl.yaml")
    assert test.endswith("pytest")


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert commands()[1] in ci
