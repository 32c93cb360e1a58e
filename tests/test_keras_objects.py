"""A saved project model loads in a process that never ran the project."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from multimodal_keras import keras_objects
from multimodal_keras.model.build import assemble_model
from multimodal_keras.targets import BINARY, fit_target_encoder
from multimodal_keras.validation import with_row_ids
from tests.fitting import fit_all
from tests.model.test_build import TARGETS, model_arrays
from tests.scratch_project import subprocess_environment

SOURCE = Path(keras_objects.__file__).parent
LOAD = """
import sys
import numpy as np
{imports}
arrays = dict(np.load(sys.argv[2]))
model = {load}
np.save(sys.argv[3], model.predict(arrays, verbose=0))
"""
LOADERS = {
    "keras": (
        "import keras\nimport multimodal_keras.keras_objects",
        "keras.models.load_model(sys.argv[1])",
    ),
    "dataset": (
        "from multimodal_keras.datasets import TensorFlowModelDataset",
        "TensorFlowModelDataset(filepath=sys.argv[1]).load()",
    ),
}


def test_every_module_that_registers_keras_objects_is_listed():
    registering = {
        ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts)
        for path in SOURCE.rglob("*.py")
        if re.search(r"^@keras\.saving\.register_keras_serializable", path.read_text(), re.M)
    }
    assert registering == {module.__name__ for module in keras_objects.MODULES}


@pytest.mark.integration
@pytest.mark.parametrize("loader", list(LOADERS))
def test_a_saved_model_loads_and_predicts_the_same_in_a_fresh_process(
    loader, shared_small_parameters, make_tiny_table, tmp_path
):
    table = with_row_ids(make_tiny_table(rows=10, seed=4), None)
    preprocessors = fit_all(shared_small_parameters, table)
    target = fit_target_encoder(TARGETS[BINARY], BINARY)
    model = assemble_model(preprocessors, target, shared_small_parameters["model"])
    arrays = model_arrays(preprocessors, table)
    model.save(tmp_path / "model.keras")
    np.savez(tmp_path / "arrays.npz", **arrays)
    imports, load = LOADERS[loader]
    script = LOAD.format(imports=imports, load=load)

    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "model.keras"),
         str(tmp_path / "arrays.npz"), str(tmp_path / "predicted.npy")],
        env=subprocess_environment(),
        capture_output=True,
        check=False,
        text=True,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(
        np.load(tmp_path / "predicted.npy"), model.predict(arrays, verbose=0), atol=1e-6
    )
