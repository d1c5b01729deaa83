"""The agent surfaces: the HTTP API (`api/`, mounted at /api/v1), the MCP server
(`mcp/`), and a small client of the API (`api_client`) for `otp agent`."""
