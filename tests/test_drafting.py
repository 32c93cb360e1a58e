"""The drafting rules on small tables: each column's role, the task, ids and groups, missing
markers, images, the list of columns to decide, and the parameters.yml they make."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from multimodal_keras import drafting
from multimodal_keras.draft_yaml import parameters_yaml
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.parameters import check
from multimodal_keras.targets import infer_task

ROWS = 60
MODALITIES = ["categorical", "numerical", "text", "image"]


@pytest.fixture(scope="module")
def settings(shared_project_parameters) -> drafting.Options:
    return drafting.Options.model_validate(shared_project_parameters["drafting"])


@pytest.fixture(scope="module")
def project(shared_project_parameters) -> drafting.ProjectSettings:
    return drafting.ProjectSettings.from_parameters(shared_project_parameters)


def table(**columns) -> pd.DataFrame:
    """A table of ROWS rows with a balanced binary target ``y`` and the given columns."""
    return pd.DataFrame({**columns, "y": ["no", "yes"] * (ROWS // 2)})


def roles(draft: drafting.Draft) -> dict[str, str]:
    return {column.name: column.role for column in draft.columns}


def column(draft: drafting.Draft, name: str) -> drafting.Column:
    return next(c for c in draft.columns if c.name == name)


def encoded(size: tuple[int, int], mode: str, kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=kind)
    return buffer.getvalue()


def run_draft(frame, settings, project, root=None, target="y") -> drafting.Draft:
    return drafting.draft(frame, target, settings, project, root)


# ---------------------------------------------------------------------------------------
# The task, as the run would infer it


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["no", "yes"] * 30, "binary"),
        (["a", "b", "c"] * 20, "multiclass"),
        ([1, 2, 3, 4, 5] * 12, "multiclass"),
        (np.linspace(0.0, 100.0, ROWS), "regression"),
    ],
)
def test_the_task_is_the_one_the_run_would_infer(values, task, settings, project):
    frame = pd.DataFrame({"x": np.arange(ROWS) % 7, "target": values})

    drafted = run_draft(frame, settings, project, target="target")

    assert drafted.target.task == task
    assert task == infer_task(frame["target"], None, project.max_classes)


def test_whole_number_classes_are_a_task_to_decide_and_follow_table_max_classes(settings, project):
    frame = pd.DataFrame({"x": np.arange(ROWS) % 7, "stars": [1, 2, 3, 4, 5] * 12})

    as_classes = run_draft(frame, settings, project, target="stars")
    fewer = drafting.ProjectSettings(**{**project.__dict__, "max_classes": 4})
    as_numbers = run_draft(frame, settings, fewer, target="stars")

    assert as_classes.target.task == "multiclass"
    assert "regression" in as_classes.target.undecided
    assert as_numbers.target.task == "regression"


def test_binary_evidence_counts_each_class(settings, project):
    drafted = run_draft(table(x=np.arange(ROWS) % 7), settings, project)

    assert drafted.target.evidence == "2 distinct values: 'no' (30 rows), 'yes' (30 rows)"


# ---------------------------------------------------------------------------------------
# One column's modality


def test_numbers_are_numerical_without_doubt(settings, project):
    drafted = run_draft(table(price=np.linspace(1.5, 99.5, ROWS)), settings, project)

    price = column(drafted, "price")
    assert price.role == "numerical"
    assert not price.undecided
    assert "numbers 1.5..99.5, 60 distinct" in price.evidence


def test_few_strings_and_booleans_are_categorical(settings, project):
    frame = table(colour=["red", "green", "blue"] * 20, boxed=[True, False] * 30)

    drafted = run_draft(frame, settings, project)

    assert roles(drafted) == {"colour": "categorical", "boxed": "categorical"}
    assert (
        "3 distinct strings, e.g. 'red' (20), 'green' (20), 'blue' (20)"
        in column(drafted, "colour").evidence
    )


def test_whole_numbers_with_gaps_each_frequent_read_as_codes(settings, project):
    frame = table(zone=[10, 20, 40, 70] * 15)

    zone = column(run_draft(frame, settings, project), "zone")

    assert zone.role == "categorical"
    assert "codes" in zone.undecided


def test_few_whole_numbers_without_gaps_stay_numerical_but_are_listed(settings, project):
    frame = table(bedrooms=[1, 2, 3, 4] * 15)

    bedrooms = column(run_draft(frame, settings, project), "bedrooms")

    assert bedrooms.role == "numerical"
    assert "a count or a scale" in bedrooms.undecided


def test_rare_values_with_gaps_are_amounts_not_codes(settings, project):
    frame = table(pool_area=[0] * (ROWS - 2) + [512, 648])

    pool = column(run_draft(frame, settings, project), "pool_area")

    assert pool.role == "numerical"
    assert pool.undecided


def test_long_strings_are_text_with_their_word_counts(settings, project):
    reviews = [f"review number {i} says the fit is lovely and the colour true" for i in range(ROWS)]

    review = column(run_draft(table(review=reviews), settings, project), "review")

    assert review.role == "text"
    assert not review.undecided
    assert review.evidence.startswith("median 12 words (95th percentile 12, longest 12)")


def test_long_one_word_strings_are_text_by_their_length(settings, project):
    settings = settings.model_copy(update={"text_min_characters": 30})
    words = ["x" * 35 + str(i % 5) for i in range(ROWS)]

    assert column(run_draft(table(blob=words), settings, project), "blob").role == "text"


def test_many_short_strings_are_undecided_one_word_categorical_else_text(settings, project):
    frame = table(
        product=[f"sku{i % 40}" for i in range(ROWS)],
        title=[f"nice dress {i}" for i in range(ROWS)],
    )

    drafted = run_draft(frame, settings, project)

    assert column(drafted, "product").role == "categorical"
    assert "one-word" in column(drafted, "product").undecided
    assert column(drafted, "title").role == "text"
    assert "short strings" in column(drafted, "title").undecided


def test_numbers_kept_as_text_without_markers_are_codes(settings, project):
    frame = table(item=[str(1000 + i % 8) for i in range(ROWS)])

    item = column(run_draft(frame, settings, project), "item")

    assert item.role == "categorical"
    assert item.evidence.startswith("whole numbers stored as text, read as codes")


def test_constant_empty_and_date_columns_are_left_out_and_listed(settings, project):
    frame = table(
        country=["NZ"] * ROWS,
        nothing=[None] * ROWS,
        sold_on=pd.date_range("2024-01-01", periods=ROWS),
    )

    drafted = run_draft(frame, settings, project)

    assert roles(drafted) == {"country": "left out", "nothing": "left out", "sold_on": "left out"}
    assert {c.name for c in drafted.undecided} == {"country", "nothing", "sold_on"}


# ---------------------------------------------------------------------------------------
# Identifiers and groups


def test_a_unique_one_word_column_is_the_id_column_and_a_second_is_left_out(settings, project):
    frame = table(
        code=[f"A{i:04d}" for i in range(ROWS)],
        serial=list(range(100, 100 + ROWS)),
    )

    drafted = run_draft(frame, settings, project)

    assert drafted.id_column == "code"
    assert column(drafted, "serial").role == "left out"
    assert "another identifier" in column(drafted, "serial").undecided


def test_unique_shuffled_whole_numbers_stay_numerical_and_are_listed(settings, project):
    frame = table(lot_area=np.random.default_rng(0).permutation(np.arange(5000, 5000 + ROWS)))

    drafted = run_draft(frame, settings, project)

    assert drafted.id_column is None
    assert column(drafted, "lot_area").role == "numerical"
    assert "table.id_column" in column(drafted, "lot_area").undecided


def test_a_clear_group_key_is_the_group_column_and_a_looser_one_only_suggested(settings, project):
    settings = settings.model_copy(update={"category_max_levels": 10})
    patients = [f"p{i // 3}" for i in range(ROWS)]  # 20 patients, 3 rows each
    shops = [f"s{i}" for i in range(ROWS - 12)] + [f"s{i}" for i in range(12)]  # some recur

    drafted = run_draft(table(patient=patients, shop=shops), settings, project)

    assert drafted.group_column == "patient"
    assert column(drafted, "patient").role == "group"
    assert [c.name for c in drafted.suggested_groups] == ["shop"]
    assert column(drafted, "shop").role == "categorical"


# ---------------------------------------------------------------------------------------
# Missing-value markers


@pytest.mark.parametrize("marker", ["?", "NA", "N/A", "null", "NULL", "", "   "])
def test_a_marker_in_a_numbers_column_makes_it_numerical_with_the_marker(marker, settings, project):
    values = [str(v) for v in range(ROWS)]
    values[3] = values[9] = marker

    drafted = run_draft(table(age=values), settings, project)

    assert column(drafted, "age").role == "numerical"
    assert drafted.missing_values == [marker.strip()]
    assert drafted.missing_values_per_column == {}


def test_a_marker_a_text_column_holds_as_a_value_is_kept_to_the_columns_it_marks(settings, project):
    notes = [f"the buyer asked about shipping and returns {i}" for i in range(ROWS)]
    notes[0] = "?"
    colour = ["red", "blue", "?"] * 20
    size = ["S", "M", "L", "NA"] * 15

    drafted = run_draft(table(note=notes, colour=colour, size=size), settings, project)

    assert drafted.missing_values == ["NA"]
    assert drafted.missing_values_per_column == {"colour": ["?"]}
    assert "a value, not missing, in note" in drafted.missing_evidence["?"]


def test_a_column_listed_per_column_keeps_every_marker_it_uses(settings, project):
    notes = [f"the buyer asked about shipping and returns {i}" for i in range(ROWS)]
    notes[0] = "?"
    frame = table(note=notes, colour=["red", "?", "NA"] * 20, size=["S", "NA"] * 30)

    drafted = run_draft(frame, settings, project)

    # missing_values_per_column replaces the shared list for a column: it repeats NA.
    assert drafted.missing_values == ["NA"]
    assert drafted.missing_values_per_column == {"colour": ["?", "NA"]}


# ---------------------------------------------------------------------------------------
# Images


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "GIF", "BMP", "WEBP"])
def test_image_bytes_are_recognised_by_their_magic_numbers(kind, settings, project):
    mode = "L" if kind in {"PNG", "BMP"} else "RGB"
    cells = [encoded((24, 16), mode, kind)] * ROWS

    drafted = run_draft(table(photo=cells), settings, project)

    assert column(drafted, "photo").role == "image"
    assert drafted.image.source == "bytes"
    assert (drafted.image.height, drafted.image.width) == (16, 24)
    assert drafted.image.channels == (1 if mode == "L" else 3)


def test_large_images_are_shrunk_as_auto_would(settings, project):
    cells = [encoded((400, 200), "RGB", "PNG")] * 4 + [encoded((10, 10), "RGB", "PNG")]
    frame = pd.DataFrame({"photo": cells, "y": ["a", "b", "a", "b", "a"]})

    drafted = run_draft(frame, settings, project)

    assert (drafted.image.height, drafted.image.width) == (64, 128)
    assert "shrunk to fit image.auto_max_size 128" in drafted.image.evidence


def test_bytes_that_are_not_all_images_are_left_out(settings, project):
    cells = [encoded((8, 8), "RGB", "PNG"), b"%PDF-1.4 not an image"] * 30

    drafted = run_draft(table(attachment=cells), settings, project)

    assert column(drafted, "attachment").role == "left out"
    assert drafted.image is None


def test_paths_of_image_files_under_the_root_are_images_by_path(tmp_path, settings, project):
    (tmp_path / "photos").mkdir()
    names = [f"photos/{i}.png" for i in range(ROWS)]
    for name in names:
        Image.new("L", (12, 12)).save(tmp_path / name)

    drafted = run_draft(table(photo=names), settings, project, root=tmp_path)

    assert column(drafted, "photo").role == "image"
    assert drafted.image.source == "path"
    assert drafted.image.root == tmp_path.resolve()
    assert (drafted.image.height, drafted.image.width, drafted.image.channels) == (12, 12, 1)


def test_paths_outside_the_root_are_not_images(tmp_path, settings, project):
    inside = tmp_path / "root"
    inside.mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "outside.png")

    drafted = run_draft(table(photo=["../outside.png"] * ROWS), settings, project, root=inside)

    assert column(drafted, "photo").role != "image"


def test_paths_of_which_some_name_no_image_are_left_out_for_the_user(tmp_path, settings, project):
    Image.new("L", (4, 4)).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_text("not a picture")

    drafted = run_draft(table(photo=["a.png", "b.png"] * 30), settings, project, root=tmp_path)

    assert column(drafted, "photo").role == "left out"
    assert "some values name image files" in column(drafted, "photo").undecided


# ---------------------------------------------------------------------------------------
# Errors a user can fix


def test_a_target_the_table_lacks_is_named_with_the_columns_there_are(settings, project):
    with pytest.raises(MultimodalKerasError) as raised:
        run_draft(table(x=range(ROWS)), settings, project, target="price")

    assert str(raised.value) == (
        "The table has no column 'price' to use as the target; its columns are ['x', 'y']. "
        "Name one of them with --target."
    )


def test_a_misspelt_target_gets_the_nearest_column_name(settings, project):
    with pytest.raises(MultimodalKerasError, match=r"with --target \(did you mean 'price'\?\)\.$"):
        run_draft(table(price=range(ROWS)), settings, project, target="prize")


def test_a_target_with_one_value_is_refused(settings, project):
    frame = pd.DataFrame({"x": range(ROWS), "y": ["yes"] * ROWS})

    with pytest.raises(MultimodalKerasError, match="has one value only \\('yes'\\)"):
        run_draft(frame, settings, project)


def test_an_empty_target_is_refused(settings, project):
    frame = pd.DataFrame({"x": range(4), "y": [None, "?", None, " "]})

    with pytest.raises(MultimodalKerasError, match="is empty in every sampled row"):
        run_draft(frame, settings, project)


# ---------------------------------------------------------------------------------------
# The written parameters.yml


def written(draft: drafting.Draft) -> str:
    return parameters_yaml(
        draft, MODALITIES, "kedro init-env shop --table t.csv --target y", "all rows of t.csv",
        "kedro run --env shop", lambda path: Path(path).as_posix(),
    )  # fmt: skip


def test_the_list_to_decide_names_each_undecided_column_with_the_choice_made(settings, project):
    frame = table(
        bedrooms=[1, 2, 3, 4] * 15,
        product=[f"sku{i % 40}" for i in range(ROWS)],
        colour=["red", "green", "blue"] * 20,
    )

    text = written(run_draft(frame, settings, project))
    header = text.split("\n\n")[0]

    assert "#   - bedrooms: numerical; whole numbers without gaps" in header
    assert "#   - product: categorical; many distinct one-word values" in header
    assert "colour" not in header


def test_nothing_to_decide_is_said_so(settings, project):
    text = written(run_draft(table(colour=["red", "green"] * 30), settings, project))

    assert "# To decide: nothing; every column's role follows from the data." in text


def test_written_parameters_are_the_draft_and_pass_the_run_s_parameter_check(
    settings, project, shared_project_parameters
):
    frame = table(
        **{
            "colour / shade": ["red", "green", "?"] * 20,
            "price: €": [str(v) if v % 9 else "?" for v in range(ROWS)],
            "note": [f"a long note about item {i} and its owner" for i in range(ROWS)],
            "yes": [True, False] * 30,
        }
    )
    drafted = run_draft(frame, settings, project)

    parameters = yaml.safe_load(written(drafted))

    assert parameters["table"] == {
        "target": "y", "task": "binary", "id_column": None, "missing_values": ["?"],
    }  # fmt: skip
    assert parameters["categorical"] == {"columns": ["colour / shade", "yes"]}
    assert parameters["numerical"] == {"columns": ["price: €"]}
    assert parameters["text"] == {"columns": ["note"], "sequence_length": "auto"}
    assert parameters["image"] == {"columns": []}
    merged = copy.deepcopy(shared_project_parameters)
    for block, values in parameters.items():
        merged[block].update(values)
    check(merged)


def test_written_image_settings_name_the_root_as_the_project_reads_it(tmp_path, settings, project):
    Image.new("RGB", (6, 6)).save(tmp_path / "a.png")

    drafted = run_draft(table(photo=["a.png"] * ROWS), settings, project, root=tmp_path)
    parameters = yaml.safe_load(written(drafted))

    assert parameters["image"] == {
        "columns": ["photo"], "source": "path", "root": tmp_path.resolve().as_posix(),
        "height": 6, "width": 6, "channels": 3,
    }  # fmt: skip
