"""Quality metrics on question sets and BEIR folders."""
