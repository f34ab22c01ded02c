"""Chat templates: how a model family lays out a conversation, as data, and rendering to segments."""

from dataforge.templates.model import Template
from dataforge.templates.registry import TEMPLATES, default_template_for, get_template

__all__ = ["TEMPLATES", "Template", "default_template_for", "get_template"]
