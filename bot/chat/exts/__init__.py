"""Discord extensions (cogs): thin translations of interactions into service calls."""
