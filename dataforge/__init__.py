"""dataforge: author, validate and preview fine-tuning datasets for chat models."""

__version__ = "0.1.0"
