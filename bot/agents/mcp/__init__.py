"""The MCP server: everything an agent does in OTP, as tools an LLM can call (`server.build_server`)."""
