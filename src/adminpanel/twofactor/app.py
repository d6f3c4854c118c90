"""The authenticator app (TOTP, SPEC §4, §5) as a Factor: a person's one TotpDevice."""

from datetime import datetime

from adminpanel import crypto
from adminpanel.errors import Refused
from adminpanel.twofactor import totp
from adminpanel.twofactor.factors import Factor, Locked, Verdict
from adminpanel.twofactor.models import TotpDevice

NO_APP = "This account has no authenticator app. Use your security key or a recovery code."


class AppFactor(Factor):
    method = "totp"
    label = "Authenticator app"
    model = TotpDevice
    can_type_code = True
    locked_column = "encrypted_key"  # read with the lock: no query of its own per code

    def device(self, person_id: int) -> TotpDevice | None:
        return TotpDevice.objects.filter(person_id=person_id).first()

    def missing(self) -> Refused:
        return Refused("no_app", NO_APP)

    def removal(self, count: int) -> str:
        return "your authenticator app"

    def verify(
        self, locked: Locked, answer: object, *, purpose: str, now: datetime, context: dict
    ) -> Verdict:
        """`answer`: six digits (services.normalize); its step must be new (no replay)."""
        key = crypto.decrypt(locked.values[self.method])
        step = totp.match_step(key, answer, now, locked.state.last_step)
        return Verdict("totp", step=step)


APP = AppFactor()
