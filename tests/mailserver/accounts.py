"""The Admin who drives the mail tests' panel, and the mail servers' postmaster address."""

ADMIN_PASSWORD = "Admin-Quartz-Lantern-4817"
POSTMASTER = "hostmaster@outside.test"  # mailserver-config --postmaster
