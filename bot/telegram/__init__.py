"""Merchant dispatch and staff chat on Telegram (aiogram 3): see bot/telegram/setup.py."""
