"""Model backends: one protocol, a registry, one module per backend."""
