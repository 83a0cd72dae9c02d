"""Stand-ins for the outside platforms (fake API servers, a WeChat sender) for tests and the demo."""
