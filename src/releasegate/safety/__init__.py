"""Red-team safety stage: harmful actions on attacks, over-refusal on benign controls."""
