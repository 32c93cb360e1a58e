"""What every modality shares: the serving model's input names."""

from __future__ import annotations

import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities.base import serving_name
from multimodal_keras.validation import check_roles


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
