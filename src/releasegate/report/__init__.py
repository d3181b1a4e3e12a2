"""Report writers: pure functions of a ``PipelineResult``."""
