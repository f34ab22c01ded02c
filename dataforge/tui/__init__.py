"""The Textual review app: sources -> generate -> review -> lint -> mask preview -> export."""
