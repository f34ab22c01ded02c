"""Reviewing samples: a lazily read dataset, the reviewer's decisions and edits, and export."""
