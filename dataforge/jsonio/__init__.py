"""Reading and writing dataset files: streaming records with their positions, atomic writes."""
