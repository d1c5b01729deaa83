"""The domain layer: every rule of the product, as functions that take a session."""
