"""What every tool shares: the hints it gives its client, and answers in the agent API's JSON shapes."""

from typing import Any

from mcp_types import ToolAnnotations
from pydantic import BaseModel

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)


def dump(model: BaseModel) -> dict[str, Any]:
    """An API schema as the JSON the agent API would answer with."""
    return model.model_dump(mode="json")
