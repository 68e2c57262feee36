"""Finding passages: question analysis, cross-lingual terms, hybrid search, follow-ups."""
