"""Prompt templates (package data): one .txt file per prompt, rendered by assistant.answering.prompts."""
