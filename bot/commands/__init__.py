"""Staff commands shared by WeChat and Telegram: one registry, one parser, one permission gate."""

from bot.commands import ops_cmds, broadcast_cmds, binding_cmds, workorder_cmds, complaint_cmds  # noqa: F401, I001  (registers; help lists in this order)
from bot.commands import owner_cmds, service_cmds  # noqa: F401, I001  (issue 16: owner database, 立项)
from bot.commands.registry import REGISTRY, CommandResult, looks_like_command, parse

__all__ = ["REGISTRY", "CommandResult", "looks_like_command", "parse"]
