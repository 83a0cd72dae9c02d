"""What merchants and staff read, one table per audience (issue 17).

Shared by every channel (Telegram today, WeCom next): plain text with `str.format` fields, no
channel markup; a channel wraps a field (e.g. a mention link) before formatting.
"""
