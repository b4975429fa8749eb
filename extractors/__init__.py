"""FAQ and pattern extractors (issue 3): the offline default and the LLM one."""
