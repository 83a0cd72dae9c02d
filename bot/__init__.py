"""Transport layer: WeChat and Telegram webhooks, staff command parsing, app wiring and the CLI."""
