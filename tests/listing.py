"""Many mailboxes and aliases at once, for the tests of the Users and Aliases lists at scale
(pages across domains, query plans): written in bulk, as the benchmark writes them, because
a thousand rows through the services would hash a thousand passwords."""

from adminpanel.mail.models import Alias, Domain, Mailbox
from adminpanel.people.models import Person


def bulk_mailboxes(domain: Domain, count: int, *, prefix: str = "user") -> list[Mailbox]:
    """`count` live mailboxes prefix0…@domain, each with its owner, named "User n"."""
    people = Person.objects.bulk_create([Person(kind="mailbox") for _ in range(count)])
    return Mailbox.objects.bulk_create(
        [
            Mailbox(
                domain=domain,
                local_part=f"{prefix}{n}",
                display_name=f"User {n}",
                password_hash="x",
                maildir=f"{domain.name}/{prefix}{n}/",
                person=person,
            )
            for n, person in enumerate(people)
        ]
    )


def bulk_aliases(domain: Domain, count: int, *, prefix: str = "team") -> list[Alias]:
    return Alias.objects.bulk_create(
        [
            Alias(
                domain=domain,
                local_part=f"{prefix}{n}",
                lookup_address=f"{prefix}{n}@{domain.name}",
                destinations=[f"someone@{domain.name}"],
            )
            for n in range(count)
        ]
    )
