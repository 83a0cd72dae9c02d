"""The WeChat service-account channel: webhook, protocol helpers and the outbound API client."""
