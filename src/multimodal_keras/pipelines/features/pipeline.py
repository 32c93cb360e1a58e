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
    learns from the targets (``READS_TARGETS``) reads ``target_encoder`` too.

    Outputs are ``<modality>.preprocessor`` and ``<modality>.features`` (an array of every
    row's model inputs, written chunk by chunk).
    """
    targets = [TARGETS] if getattr(MODALITIES[modality], "READS_TARGETS", False) else []
    template = Pipeline(
        [
            node(
                fit_preprocessor_for(modality),
                inputs=[
                    "primary_table",
                    "split_assignments",
                    "params:options",
                    "params:processing",
                    "params:seed",
                    *targets,
                ],
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
        inputs=SHARED_INPUTS | set(targets),
        parameters={
            "params:options": f"params:{modality}",
            **{name: name for name in SHARED_PARAMETERS},
        },
        tags="preprocessing",
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Every registered modality's pipeline."""
    return sum((create_modality_pipeline(name) for name in MODALITIES), Pipeline([]))
