"""Dataset linting: rules that judge records, an engine that streams files through them."""
