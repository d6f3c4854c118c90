"""TOTP devices, pending setups, recovery codes, security keys and the per-person code state.

Each row belongs to a person (people.Person: an Admin or Sub-Admin today, a mailbox owner
later), never to one kind of person. Only the services of twofactor write these tables, always
inside a transaction that first locks the person's row.
"""

from django.db import models

from adminpanel import clock
from adminpanel.people.models import Person


class TotpDevice(models.Model):
    """A confirmed authenticator: its existence is what "2FA enabled" means."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="totp_device")
    encrypted_key = models.TextField()  # MultiFernet token of the base32 key
    created_at = models.DateTimeField(default=clock.now)


class PendingSetup(models.Model):
    """A QR code shown but not yet confirmed. Never a device; a newer one replaces it."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="pending_setup")
    encrypted_key = models.TextField()
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()


class RecoveryCode(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=256)  # salted password hash, never the code
    used_at = models.DateTimeField(null=True, blank=True)


class CodeState(models.Model):
    """What earlier code checks decided: the last accepted step and the failure streak."""

    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, primary_key=True, related_name="code_state"
    )
    last_step = models.BigIntegerField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)


class WebAuthnKey(models.Model):
    """A registered security key or passkey (SPEC §11): its public key and signature counter."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="webauthn_keys")
    name = models.CharField(max_length=64)
    # base64url of the credential id (at most 1023 bytes by the WebAuthn spec)
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE_Key as the authenticator sent it
    sign_count = models.BigIntegerField(default=0)
    # The WebAuthn user.id given to the authenticator: random, the same for all of a
    # person's keys, never the username.
    user_handle = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=clock.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # A passkey (a discoverable credential): it keeps the person and can sign in without a
    # password. Known from the browser's credProps at registration, a synced (multi-device)
    # key, or a Sign in with a passkey made with it.
    passkey = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]


class WebAuthnChallenge(models.Model):
    """A challenge sent to the browser: bound to a session and a purpose, accepted once."""

    challenge = models.CharField(max_length=100, unique=True)  # base64url, 256 random bits
    binding = models.CharField(max_length=100)  # the random token kept in that session
    purpose = models.CharField(max_length=16)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True
    )  # none for a passkey sign-in, where the key tells who it is
    user_handle = models.CharField(max_length=100, blank=True)  # the one offered to a new key
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["binding", "purpose"], name="webauthn_challenge_binding"),
            # each new challenge deletes the expired ones: an indexed range, not a table scan
            models.Index(fields=["expires_at"], name="webauthn_challenge_expires"),
        ]
