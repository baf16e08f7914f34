"""Platform adapters: the terminal, Matrix (Tchap) and Telegram."""
