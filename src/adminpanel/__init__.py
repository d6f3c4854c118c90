"""Admin Panel: a self-hosted admin panel for a mail-hosting account."""
