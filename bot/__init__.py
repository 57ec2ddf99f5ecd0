"""Briefbot's answering and its interfaces (CLI, Discord). Depends on `index`, never the reverse."""
