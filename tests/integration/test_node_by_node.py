"""Every node of the default pipeline run alone, one after another, as an orchestrator runs them.

A deployment plugin (kedro-airflow, kedro-kubeflow, kedro-vertexai, ...) turns each node
into a task that runs ``kedro run --nodes NAME`` in a container of its own, so a node
may pass nothing on in memory: everything it reads must be on disk. The slow test runs
each node in its own process, exactly so; the fast one runs each in a fresh Kedro
session in this process, which checks the same hand-over through the catalog.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from multimodal_keras.pipeline_registry import register_pipelines
from tests.configuration import load_conf
from tests.scratch_project import kedro, make_small_project

pytestmark = pytest.mark.integration

NODE_TIMEOUT = 300


def default_nodes() -> list[str]:
    """The names of the default pipeline's nodes, in an order that runs each after its inputs."""
    return [node.name for node in register_pipelines()["__default__"].nodes]


def assert_every_output_written_once(project: Path) -> None:
    """Each output of the default pipeline is on disk, versioned ones in exactly one version."""
    catalog = load_conf("catalog", project / "conf")
    for name in sorted(register_pipelines()["__default__"].all_outputs()):
        entry = catalog[name]
        path = project / entry["filepath"]
        assert path.exists(), f"{name} was not written to {entry['filepath']}"
        if entry.get("versioned"):
            assert len([version for version in path.iterdir() if version.is_dir()]) == 1, name


def test_the_default_pipeline_is_ordered_so_that_each_node_follows_its_inputs():
    made: set[str] = set()
    pipeline = register_pipelines()["__default__"]
    for node in pipeline.nodes:
        assert set(node.inputs) - pipeline.inputs() <= made, node.name
        made |= set(node.outputs)


# Kedro's config loader registers its resolvers anew in every session, with OmegaConf's notice.
@pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning")
def test_each_node_runs_alone_in_a_fresh_session_from_what_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    project, _ = make_small_project(tmp_path / "project")
    monkeypatch.chdir(project)
    bootstrap_project(project)

    for name in default_nodes():
        with KedroSession.create(project_path=project) as session:
            session.run(node_names=[name])

    assert_every_output_written_once(project)


@pytest.mark.slow
def test_each_node_runs_alone_in_its_own_process(tmp_path: Path):
    project, _ = make_small_project(tmp_path / "project")

    for name in default_nodes():
        result = kedro(project, "run", "--nodes", name, timeout=NODE_TIMEOUT)
        assert result.returncode == 0, f"{name}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"

    assert_every_output_written_once(project)
