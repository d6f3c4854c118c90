"""What accounts announces to the layers above it, without importing them (no models here:
notices connects to these while Django loads its apps)."""

from django.dispatch import Signal

LINK_HOURS = 24  # how long the link that confirms a new notice e-mail works

# A new notice e-mail waits for its link: sent with account=, address=, url= (the link, with its
# secret token, which is never in an audit event) and request=, inside the change's transaction.
email_confirmation_requested = Signal()
