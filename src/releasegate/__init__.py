"""releasegate: decide whether a fine-tuned LLM may ship."""

__version__ = "0.1.0"
