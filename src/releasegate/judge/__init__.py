"""The LLM judge: sampling, fenced prompts, providers, budgeted concurrent calls, cache."""
