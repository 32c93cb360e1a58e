"""A ChunkedArray is an array made chunk by chunk: checked, re-readable, usable whole."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from multimodal_keras.chunked import ChunkedArray


def chunked(values: np.ndarray, size: int) -> ChunkedArray:
    return ChunkedArray(
        values.shape,
        values.dtype,
        lambda: (values[start : start + size] for start in range(0, len(values), size)),
    )


def test_chunks_make_the_whole_array_in_row_order_and_can_be_read_twice():
    values = np.arange(7 * 3, dtype=np.uint8).reshape(7, 3)
    array = chunked(values, 3)

    assert [len(chunk) for chunk in array.chunks()] == [3, 3, 1]
    np.testing.assert_array_equal(np.asarray(array), values)
    np.testing.assert_array_equal(np.asarray(array), values)
    assert (len(array), array.ndim, array.nbytes) == (7, 2, values.nbytes)
    np.testing.assert_array_equal(array[2:4, 1], values[2:4, 1])


def test_deep_copy_is_the_same_lazy_array_not_its_values():
    array = chunked(np.zeros((4, 2), dtype=np.int32), 2)

    assert copy.deepcopy(array) is array


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        ([np.zeros((2, 3), np.uint8)], "hold 2 rows, not the 4"),
        ([np.zeros((4, 2), np.uint8)], "does not fit"),
        ([np.zeros((4, 3), np.int32)], "does not fit"),
        ([np.zeros((3, 3), np.uint8), np.zeros((3, 3), np.uint8)], "more than the 4 rows"),
    ],
)
def test_chunks_that_do_not_add_up_to_the_declared_array_are_refused(chunks, message):
    array = ChunkedArray((4, 3), np.uint8, lambda: iter(chunks))

    with pytest.raises(ValueError, match=message):
        np.asarray(array)
