"""Reading .docx documents into blocks, and grouping blocks into chunks for generation."""
