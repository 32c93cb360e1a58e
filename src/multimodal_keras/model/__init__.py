"""Model assembly from modality towers, training, and evaluation."""
