"""calfbot: a Telegram bot that coaches a daily calf workout."""
