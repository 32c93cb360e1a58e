"""Every shell command the README and docs show runs, as written, in a scratch copy.

The commands run in the order the documents give them (README first), so that a command
finds what an earlier one wrote (training before scoring), with the training shrunk in
the copy's ``conf/base`` (few epochs, small towers) so that the whole walk takes minutes.
The few commands this cannot run are listed in ``NOT_RUN`` with the reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.configuration import deep_update, small_changes
from tests.scratch_project import PROJECT_ROOT, make_project_copy, subprocess_environment

DOCUMENTS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^[ \t]*```(?:bash|sh|shell)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
# Files the documents' commands expect the reader to have, made from the committed rows.
READERS_FILES = {
    "data/01_raw/my_rows.parquet": "data/01_raw/demo_new_rows.parquet",
    "data/01_raw/listings_2026_11.parquet": "data/01_raw/demo_new_rows.parquet",
}

# Commands not run here, each with the reason (matched from the command's start).
NOT_RUN = {
    "pip install": "installs packages: .ci/run runs the README's install command",
    "pytest": "the test suite itself",
    "kedro viz run": "a server that runs until stopped; tests/integration/test_kedro_viz.py "
    "renders the same flowchart in a browser",
    "kedro run --env <name>": "a placeholder for the reader's environment",
    "kedro run --env houses": "needs the reader's own table (docs/bring_your_own_table.md)",
    "kedro init-env houses": "needs the reader's own table (docs/bring_your_own_table.md)",
    "python benchmarks/run.py": "minutes of benchmarks; tests/benchmarks/test_benchmark_run.py "
    "runs the script end to end on a tiny table",
    "TF_CONFIG=": "training across machines; tests/integration/test_distributed_training.py "
    "runs the same two-worker training on this machine",
    "export TF_CONFIG=": "training across machines, as above",
    "CLUSTER=": "the two-worker example, as above",
    "wait": "part of the two-worker example",
    "kedro airflow": "kedro-airflow is not a dependency of the project",
    "kedro package": "builds a wheel; not part of training or scoring",
    "kedro run --nodes validate_table   # ... one node per task": "shown as the first of a "
    "series; tests/integration/test_node_by_node.py runs every node alone",
    "kedro run --nodes split_rows": "part of the node-by-node series, as above",
    "kedro run --nodes build_run_report": "part of the node-by-node series, as above",
    "kedro run --nodes build_model": "part of the two-worker example, as above",
}


def fenced_commands(text: str) -> list[str]:
    """The shell commands of a Markdown text's bash blocks, continuation lines joined."""
    commands: list[str] = []
    for block in FENCE.findall(text):
        joined = re.sub(r"\\\n\s*", "", block)
        stripped = (line.strip() for line in joined.splitlines())
        commands += [line for line in stripped if line and not line.startswith("#")]
    return commands


def documented_commands() -> list[tuple[str, str]]:
    """(document, command) for every command of the README and docs, in order."""
    return [
        (path.relative_to(PROJECT_ROOT).as_posix(), command)
        for path in DOCUMENTS
        for command in fenced_commands(path.read_text())
    ]


def reason_not_run(command: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if command.startswith(start)), None)


def shrink_training(project: Path) -> None:
    """Merge the small project's settings into the copy's base parameter files, key by key."""
    small = small_changes()
    for path in sorted((project / "conf" / "base").glob("parameters*.yml")):
        parameters = yaml.safe_load(path.read_text()) or {}
        changes = {key: value for key, value in small.items() if key in parameters}
        if changes:
            path.write_text(yaml.safe_dump(deep_update(parameters, changes), sort_keys=False))


def test_the_commands_are_found_and_every_skipped_one_has_a_reason():
    commands = [command for _, command in documented_commands()]
    assert "kedro run" in commands and "kedro run --pipelines inference" in commands
    skipped = {start for start in NOT_RUN if any(c.startswith(start) for c in commands)}
    assert skipped == set(NOT_RUN), f"NOT_RUN entries no document shows: {set(NOT_RUN) - skipped}"


@pytest.mark.slow
def test_every_documented_command_runs(tmp_path: Path):
    raw = [path.name for path in (PROJECT_ROOT / "data" / "01_raw").iterdir() if path.is_file()]
    project = make_project_copy(tmp_path / "project", raw)
    shrink_training(project)
    for name, source in READERS_FILES.items():
        shutil.copy2(PROJECT_ROOT / source, project / name)
    failures = []
    for document, command in documented_commands():
        if reason_not_run(command):
            continue
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=project,
            env=subprocess_environment(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or "Traceback" in done.stdout + done.stderr:
            failures.append(f"{document}: {command}\n{(done.stdout + done.stderr)[-1500:]}")
    assert not failures, "\n\n".join(failures)
