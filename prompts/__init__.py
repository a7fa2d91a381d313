"""Prompt templates (package data), loaded with importlib.resources.files("summarizer.prompts")."""
