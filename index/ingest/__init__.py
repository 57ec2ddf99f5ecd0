"""Turning files, folders and pasted text into RawArticle records."""
