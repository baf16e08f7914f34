"""Telegram transport (python-telegram-bot 22): see docs/telegram.md."""

from bot.transports.telegram.transport import TelegramTransport

__all__ = ["TelegramTransport"]
