"""The running service and its surfaces: Slack (`slack/`), agents (`agents/`: HTTP API and MCP),
the processes that carry work out (`runtime/`), the `otp` command line (`cli/`) and the
local Slack console (`console/`). Rules live in `store/domain`; the /otp replies in `commands/`."""
