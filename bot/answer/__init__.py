"""From retrieved passages to an Answer: evidence, highlighted span, citations, abstention."""
