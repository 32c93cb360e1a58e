"""Random tables either pass validation and preprocessing with aligned outputs, or stop cleanly."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import ROW_ID
from multimodal_keras.splitting import TRAIN, assign_splits, split_positions
from multimodal_keras.validation import validate
from tests.configuration import load_conf
from tests.fitting import fit_on_rows

FEATURES = load_conf("parameters")


def _png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.none(),
    st.sampled_from(["1.5", "-2e300", "not a number"]),
)
strings = st.one_of(st.text(max_size=12), st.none(), st.integers(), st.floats(allow_nan=True))
# Mostly real images, some junk bytes and empty cells.
images = st.integers(0, 11).flatmap(
    lambda k: st.just(_png(k)) if k < 10 else st.one_of(st.binary(max_size=16), st.none())
)

CELLS = {"categorical": strings, "numerical": numbers, "text": strings, "image": images}


@st.composite
def tables(draw):
    rows = draw(st.integers(min_value=0, max_value=40).map(lambda n: 0 if n < 2 else max(n, 12)))
    kinds = draw(st.lists(st.sampled_from(list(CELLS)), min_size=1, max_size=5))
    frame, columns = {}, {name: [] for name in MODALITIES}
    for index, kind in enumerate(kinds):
        name = f"{kind}_{index}_é"
        frame[name] = draw(st.lists(CELLS[kind], min_size=rows, max_size=rows))
        columns[kind].append(name)
    labels = st.sampled_from(["yes", "no", "yes", "no", "maybe", None])
    frame["target"] = draw(st.lists(labels, min_size=rows, max_size=rows))
    policies = draw(st.sampled_from(["error", "drop", "drop", "drop"]))
    return pd.DataFrame(frame), columns, policies


def _options(columns: dict[str, list[str]], policy: str) -> dict[str, dict]:
    options = {}
    for name in MODALITIES:
        block = dict(FEATURES[name])
        block.update(columns=columns[name], invalid_rows=policy)
        options[name] = block
    options["image"].update(height=4, width=4, chunk_size=8)
    return options


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tables())
def test_random_tables_give_aligned_outputs_or_the_projects_error(drawn):
    raw, columns, policy = drawn
    options = _options(columns, policy)
    try:
        primary = validate(raw, {"target": "target", "missing_target": "drop"}, None, options)
        split = assign_splits(primary[ROW_ID], 0.25, 0.25, 0, labels=primary["target"])
        train = primary.iloc[split_positions(split, TRAIN)]
        for name, module in MODALITIES.items():
            encoded = module.transform(fit_on_rows(name, train, options[name], "target"), primary)
            values = module.model_input(encoded)
            assert len(encoded) == len(primary)
            assert values.shape[0] == len(primary)
            assert np.issubdtype(values.dtype, np.number)
            if np.issubdtype(values.dtype, np.floating):
                assert not np.isnan(values).any()
            if isinstance(encoded, pd.DataFrame):
                assert encoded[ROW_ID].tolist() == primary[ROW_ID].tolist()
        event("preprocessed")
    except MultimodalKerasError as error:
        event(f"stopped: {str(error)[:40]}")
        message = str(error)
        assert message.endswith(".") and "\n" not in message
