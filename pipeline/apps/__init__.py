"""Applications on a run's outputs: the MCP server for agents and the deep-research loop."""
