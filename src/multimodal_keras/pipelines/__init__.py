"""The project's Kedro pipelines, and the one naming rule they share for modality datasets."""

from multimodal_keras.modalities import MODALITIES


def per_modality(template: str) -> dict[str, str]:
    """Node inputs keyed by modality: ``per_modality("{}.features")`` maps each registered
    modality to its ``<modality>.features`` dataset, so a new modality is wired everywhere."""
    return {name: template.format(name) for name in MODALITIES}
