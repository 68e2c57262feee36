"""Models: sentence embeddings, chat backends, the bundled local GGUF, the e5 folder build."""
