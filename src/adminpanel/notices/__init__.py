"""Notices by e-mail (SPEC §12): written to an outbox with the change, sent by one sender."""
