"""WeCom (企业微信): a second merchant and staff channel beside Telegram (issue 17)."""
