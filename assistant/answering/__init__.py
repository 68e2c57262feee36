"""Answers from passages: extractive, generative, grounding of citations, prompts."""
