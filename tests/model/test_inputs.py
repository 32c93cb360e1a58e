"""Model inputs: encoded artifacts must hold split_assignments' rows, in its order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.model.inputs import check_aligned, model_inputs

ROW_IDS = pd.Series([30, 10, 20])


def frame(row_ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"row_id": row_ids, "price": np.arange(len(row_ids), dtype=np.float32)})


def test_aligned_artifacts_pass():
    check_aligned({"numerical": frame([30, 10, 20]), "text": np.zeros((3, 1, 4))}, ROW_IDS)


def test_frame_with_the_rows_in_another_order_is_refused_naming_its_namespace():
    with pytest.raises(MultimodalKerasError, match="kedro run --namespaces numerical"):
        check_aligned({"numerical": frame([10, 20, 30])}, ROW_IDS)


def test_array_with_another_row_count_is_refused():
    with pytest.raises(MultimodalKerasError, match="image"):
        check_aligned({"image": np.zeros((2, 1, 4, 4, 3), dtype=np.uint8)}, ROW_IDS)


def test_model_inputs_take_the_rows_at_the_positions_for_the_named_inputs_only():
    encoded = {"numerical": frame([30, 10, 20]), "text": np.arange(3).reshape(3, 1, 1)}

    arrays = model_inputs(["numerical"], encoded, np.array([2, 0]))

    assert list(arrays) == ["numerical"]
    assert arrays["numerical"].tolist() == [[2.0], [0.0]]
