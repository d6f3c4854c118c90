"""What the mail servers read (SPEC §10): the contract views, the files that make Postfix and
Dovecot read them, the lookup server for SQLite, and a private Postfix + Dovecot for trials."""
