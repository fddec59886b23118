"""unhardcoded."""
