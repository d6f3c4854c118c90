"""Where mail to an address goes next, as the mail servers route it: an alias's destinations, a
mailbox's forwarding (Sieve redirect), an alias domain's target, a domain's catch-all.

Saving any of these runs the loop check first (issue 21): mail that comes back to where it
started goes round until Postfix gives up and bounces it. Disabled aliases, mailboxes and alias
domains are followed too: switching one on must not close a loop nobody checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adminpanel.mail.models import Alias, AliasDomain, Domain, Forwarding, Mailbox
from adminpanel.mailserver.config import RECIPIENT_DELIMITER

# How far the check follows mail before it stops looking (each hop is a few indexed queries).
MAX_HOPS = 1000

ALIAS, FORWARDING, ALIAS_DOMAIN, CATCH_ALL = "alias", "forwarding", "alias domain", "catch-all"


@dataclass(frozen=True)
class Change:
    """What is about to be saved, seen instead of what is stored (addresses and domains in
    lower case, A-labels)."""

    aliases: dict[str, list[str]] = field(default_factory=dict)  # address -> destinations
    forwardings: dict[str, list[str]] = field(default_factory=dict)  # mailbox -> destinations
    alias_domains: dict[str, str] = field(default_factory=dict)  # alias domain -> target
    catch_alls: dict[str, str] = field(default_factory=dict)  # domain -> catch-all ("": none)


def untagged(address: str) -> str:
    """user+tag@domain is mail for user@domain, in lower case."""
    local, _, domain = address.lower().rpartition("@")
    return f"{local.split(RECIPIENT_DELIMITER, 1)[0] or local}@{domain}"


def catch_all_node(domain: str) -> str:
    """The catch-all of a domain, as a step of a route ("@example.com")."""
    return f"@{domain}"


class Routes:
    """The routes as stored, with a Change laid over them."""

    def __init__(self, change: Change):
        self.change = change

    def _alias(self, address: str) -> list[str] | None:
        if address in self.change.aliases:
            return self.change.aliases[address]
        found = Alias.objects.filter(lookup_address=address).values_list("destinations", flat=True)
        return next(iter(found), None)

    def _is_mailbox(self, address: str) -> bool:
        local, _, domain = address.rpartition("@")
        return Mailbox.objects.filter(local_part__iexact=local, domain__name=domain).exists()

    def _forwarding(self, address: str) -> list[str]:
        if address in self.change.forwardings:
            return self.change.forwardings[address]
        local, _, domain = address.rpartition("@")
        found = Forwarding.objects.filter(
            mailbox__in=Mailbox.objects.filter(local_part__iexact=local, domain__name=domain)
        ).values_list("destinations", flat=True)
        return next(iter(found), [])

    def _alias_domain_target(self, domain: str) -> str | None:
        if domain in self.change.alias_domains:
            return self.change.alias_domains[domain]
        found = AliasDomain.objects.filter(name=domain).values_list("target__name", flat=True)
        return next(iter(found), None)

    def _catch_all(self, domain: str) -> str:
        if domain in self.change.catch_alls:
            return self.change.catch_alls[domain]
        found = Domain.objects.filter(name=domain).values_list("catch_all", flat=True)
        return next(iter(found), "")

    def node(self, address: str) -> str:
        """The address as the mail servers look it up: with its tag only when an alias has it."""
        address = address.lower()
        return address if self._alias(address) is not None else untagged(address)

    def next_hops(self, node: str) -> list[tuple[str, str]]:
        """(where mail to this address or catch-all goes next, by what) for each next step."""
        local, _, domain = node.rpartition("@")
        if not local:  # a catch-all
            catch_all = self._catch_all(domain)
            return [(self.node(catch_all), CATCH_ALL)] if catch_all else []
        destinations = self._alias(node)
        if destinations is not None:
            return [(self.node(d), ALIAS) for d in destinations]
        if self._is_mailbox(node):
            return [(self.node(d), FORWARDING) for d in self._forwarding(node)]
        target = self._alias_domain_target(domain)
        if target:
            return [(self.node(f"{local}@{target}"), ALIAS_DOMAIN)]
        catch_all = self._catch_all(domain)
        # Postfix ends an expansion whose result is the address looked up: a catch-all to an
        # unknown address of its own domain is a dead end (refused at RCPT TO), not a loop.
        if not catch_all or self.node(catch_all) == node:
            return []
        return [(catch_all_node(domain), CATCH_ALL)]


@dataclass(frozen=True)
class Loop:
    path: list[str]  # from the start back to it
    ways: set[str]  # ALIAS, FORWARDING, ALIAS_DOMAIN, CATCH_ALL: what its steps went through

    def __str__(self) -> str:
        return " → ".join(self.path)


def find_loop(start: str, change: Change) -> Loop | None:
    """The shortest route from `start` (an address, or a catch-all node "@domain") back to it,
    with the change saved; None when mail to it never comes back."""
    routes = Routes(change)
    if not start.startswith("@"):
        start = routes.node(start)
    seen = {start}
    waiting: list[tuple[list[str], set[str]]] = [([start], set())]  # breadth first
    while waiting and len(seen) < MAX_HOPS:
        path, ways = waiting.pop(0)
        for target, way in routes.next_hops(path[-1]):
            if target == start:
                return Loop([*path, target], ways | {way})
            if target not in seen:
                seen.add(target)
                waiting.append(([*path, target], ways | {way}))
    return None


def describe(loop: Loop) -> str:
    """What a loop goes through, in words: "among aliases", "through aliases and forwarding"."""
    if loop.ways == {ALIAS}:
        return "among aliases"
    names = {
        ALIAS: "aliases",
        FORWARDING: "a mailbox's forwarding",
        ALIAS_DOMAIN: "an alias domain",
        CATCH_ALL: "a catch-all",
    }
    kinds = [names[way] for way in (ALIAS, FORWARDING, ALIAS_DOMAIN, CATCH_ALL) if way in loop.ways]
    return "through " + (
        " and ".join(kinds) if len(kinds) < 3 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    )


def addresses_at(domain: str) -> list[str]:
    """Every stored destination at this domain (of aliases, forwardings and catch-alls): where a
    new alias domain or catch-all of it could close a loop."""
    suffix = f"@{domain}"
    found = set()
    lists = [
        *Alias.objects.values_list("destinations", flat=True),
        *Forwarding.objects.values_list("destinations", flat=True),
        [c for c in Domain.objects.values_list("catch_all", flat=True) if c],
    ]
    for destinations in lists:
        found.update(d.lower() for d in destinations if d.lower().endswith(suffix))
    return sorted(found)
