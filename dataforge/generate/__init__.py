"""Generating training records from document chunks: offline or through an LLM API."""
