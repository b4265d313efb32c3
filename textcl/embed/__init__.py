"""Continual embeddings: word2vec (and, later, transformers) that keep learning."""
