"""Django's SMTP backend, with STARTTLS whenever the server offers it.

Django's own backend either always or never asks for STARTTLS; ADMINPANEL_SMTP_URL's
smtp:// means "encrypt when the server can". A password is never sent over a connection that
is not encrypted, except to a server on this machine.
"""

import ipaddress
import smtplib

from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.utils import DNS_NAME

LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() in LOOPBACK_NAMES


class SmtpBackend(EmailBackend):
    def open(self) -> bool:
        if self.connection:
            return False
        params: dict = {"local_hostname": DNS_NAME.get_fqdn(), "timeout": self.timeout}
        if self.use_ssl:
            params["context"] = self.ssl_context
        connection = self.connection_class(self.host, self.port, **params)
        try:
            if not self.use_ssl:
                connection.ehlo()
                if connection.has_extn("starttls"):
                    connection.starttls(context=self.ssl_context)
                    connection.ehlo()
                elif self.username and not _loopback(self.host):
                    raise smtplib.SMTPNotSupportedError(
                        "The mail server does not offer STARTTLS: the password is not sent "
                        "in clear text."
                    )
            if self.username:
                connection.login(self.username, self.password)
        except BaseException:
            connection.close()
            raise
        self.connection = connection
        return True
