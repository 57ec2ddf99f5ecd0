"""Briefbot's knowledge base: articles in, passages out. Never imports discord."""
