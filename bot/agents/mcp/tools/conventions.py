"""What every tool shares: the hints it gives its client. (Each answers with one of the agent
API's models, which the SDK publishes as the tool's output schema.)"""

from mcp_types import ToolAnnotations

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
