"""The knowledge base: registry (SQLite), vectors (Chroma), keyword index (jieba + BM25)."""
