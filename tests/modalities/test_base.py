"""What every modality shares: the interface, the registry, the serving model's input names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES, MODALITY_NAMES
from multimodal_keras.modalities.base import Modality, serving_name
from multimodal_keras.validation import check_roles
from tests.fitting import fit_on_rows

INTERFACE = sorted(
    name for name in {*vars(Modality), *Modality.__annotations__} if not name.startswith("_")
)


# A modality that reads other modalities' columns (the neighbours) makes no synthetic ones.
SYNTHETIC = {"synthetic_column", "synthetic_gaps", "synthetic_new_rows"}


@pytest.mark.parametrize("name", MODALITY_NAMES)
def test_every_registered_modality_implements_the_whole_interface(name):
    module = MODALITIES[name]
    needed = [
        member
        for member in INTERFACE
        if not (getattr(module, "READS_OTHER_COLUMNS", False) and member in SYNTHETIC)
    ]
    assert [member for member in needed if not hasattr(module, member)] == []
    assert hasattr(module, "Options") and hasattr(module, "TowerOptions")


def test_the_modality_names_import_without_tensorflow():
    code = (
        "import sys; import multimodal_keras.modalities.names, multimodal_keras.drafting; "
        "print('tensorflow' in sys.modules)"
    )
    source = str(Path(__file__).resolve().parents[2] / "src")
    environment = {**os.environ, "PYTHONPATH": source, "KEDRO_DISABLE_TELEMETRY": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment
    )
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("price", "price"),
        ("capital-gain", "capital_gain"),
        ("café au lait", "cafe_au_lait"),
        ("size/weight", "size_weight"),
        ("2nd owner", "column_2nd_owner"),
        ("_private", "column__private"),
        ("😀", "column_1f600"),
        ("Ωμέγα", "column_3a9_3bc_3ad_3b3_3b1"),
    ],
)
def test_every_column_gets_a_name_a_saved_model_signature_accepts(column, expected):
    assert serving_name(column) == expected


def test_two_columns_that_would_share_a_serving_name_are_refused_before_training():
    with pytest.raises(MultimodalKerasError, match="'a b' and 'a-b' would both be .* 'a_b'"):
        check_roles("target", {"numerical": ["a b"], "categorical": ["a-b"]})


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("categorical", {"encoding": "one_hot"}),
        ("categorical", {"encoding": "embedding"}),
        ("categorical", {"encoding": "auto", "one_hot_max_categories": 3}),
        ("categorical", {"columns": []}),
        ("numerical", {}),
        ("numerical", {"columns": []}),
        ("text", {}),
        ("image", {}),
    ],
)
def test_the_encoded_shape_is_known_before_encoding_and_stored_inputs_are_read_as_they_are(
    name, overrides, tiny_primary_table, small_parameters
):
    module = MODALITIES[name]
    options = {**small_parameters[name], **overrides}
    target = small_parameters["table"]["target"]
    preprocessor = fit_on_rows(name, tiny_primary_table, options, target)

    row_shape, dtype = module.encoded_shape(preprocessor)

    expected = np.asarray(module.model_input(module.transform(preprocessor, tiny_primary_table)))
    assert (expected.shape[1:], expected.dtype) == (row_shape, dtype)
    stored = module.model_input(expected)
    assert stored.dtype == dtype and np.shares_memory(stored, expected) == bool(expected.size)
    np.testing.assert_array_equal(stored, expected)
