"""Loss-masked tokenization: tokenizers, encoding rendered samples, truncation, the preview."""
