"""The per-modality pipeline is one template, instantiated under each modality's namespace."""

from __future__ import annotations

import pytest

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipelines import features
from multimodal_keras.pipelines.features.pipeline import create_modality_pipeline
from tests.fitting import reads_targets


@pytest.mark.parametrize("modality", list(MODALITIES))
def test_each_modality_fits_on_the_shared_tables_and_its_own_parameters(modality):
    pipeline = create_modality_pipeline(modality)

    nodes = {node.name: node for node in pipeline.nodes}

    assert set(nodes) == {f"{modality}.fit_preprocessor", f"{modality}.transform"}
    fit = nodes[f"{modality}.fit_preprocessor"]
    assert fit.inputs == [
        "primary_table",
        "split_assignments",
        f"params:{modality}",
        "params:processing",
        "params:seed",
        *(["target_encoder"] if reads_targets(modality) else []),
        # A modality that may choose among other modalities' columns reads their blocks.
        *(f"params:{name}" for name in getattr(MODALITIES[modality], "COLUMNS_FROM", ())),
    ]
    assert fit.outputs == [f"{modality}.preprocessor"]
    transform = nodes[f"{modality}.transform"]
    assert transform.inputs == [f"{modality}.preprocessor", "primary_table", "params:processing"]
    assert transform.outputs == [f"{modality}.features"]


def test_features_pipeline_has_every_registered_modality():
    pipeline = features.create_pipeline()

    assert pipeline.inputs() == {
        "primary_table",
        "split_assignments",
        "target_encoder",
        "params:processing",
        "params:seed",
    } | {f"params:{name}" for name in MODALITIES}
    assert pipeline.all_outputs() == {
        f"{name}.{artifact}" for name in MODALITIES for artifact in ("preprocessor", "features")
    }
