"""The per-modality pipeline, written once and instantiated under each modality's namespace."""

from kedro.pipeline import Pipeline, node

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipelines.features.nodes import fit_preprocessor_for, transform_for

SHARED_INPUTS = {"primary_table", "split_assignments"}
SHARED_PARAMETERS = {"params:processing", "params:seed"}
TARGETS = "target_encoder"


def create_modality_pipeline(modality: str) -> Pipeline:
    """``<modality>.fit_preprocessor`` and ``<modality>.transform``, reading ``params:<modality>``
    and the shared ``params:processing`` and ``params:seed``; the fit of a modality that
    learns from the targets (``READS_TARGETS``) reads ``target_encoder`` too, and that of
    one that may choose other modalities' columns (``COLUMNS_FROM``) their parameters.

    Outputs are ``<modality>.preprocessor`` and ``<modality>.features`` (an array of every
    row's model inputs, written chunk by chunk).
    """
    module = MODALITIES[modality]
    targets = {"target_encoder": TARGETS} if getattr(module, "READS_TARGETS", False) else {}
    sources = {name: f"params:{name}" for name in getattr(module, "COLUMNS_FROM", ())}
    template = Pipeline(
        [
            node(
                fit_preprocessor_for(modality),
                inputs={
                    "primary_table": "primary_table",
                    "split_assignments": "split_assignments",
                    "options": "params:options",
                    "processing": "params:processing",
                    "seed": "params:seed",
                    **targets,
                    **sources,
                },
                outputs="preprocessor",
                name="fit_preprocessor",
            ),
            node(
                transform_for(modality, out_of_fold=True),
                inputs=["preprocessor", "primary_table", "params:processing"],
                outputs="features",
                name="transform",
            ),
        ]
    )
    return Pipeline(
        template,
        namespace=modality,
        inputs=SHARED_INPUTS | set(targets.values()),
        parameters={
            "params:options": f"params:{modality}",
            **{name: name for name in SHARED_PARAMETERS | set(sources.values())},
        },
        tags="preprocessing",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Every registered modality's pipeline."""
    return sum((create_modality_pipeline(name) for name in MODALITIES), Pipeline([]))
