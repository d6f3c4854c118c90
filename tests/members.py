"""A second kind of person, for tests only: a "member" that is not an Account, with the one
thing a kind adds (people.kinds): what follows when its second factor changes. The tests
show that the second factor serves it through the same code as an Admin's account."""

from dataclasses import dataclass, field

from adminpanel.people.models import Person

KIND = "member"
KIND_PATH = "tests.members.MemberKind"


@dataclass
class Member:
    """people.kinds.SignsIn without a model of its own: the Logs name it by username only."""

    person: Person
    username: str
    changes: list[tuple[str, object]] = field(default_factory=list)  # what its kind heard
    pk = None  # no Account row: audit rows carry the username, not an account

    @property
    def person_id(self) -> int:
        return self.person.pk


class MemberKind:
    def protection_changed(self, who: Member, change: str, *, request, actor) -> None:
        who.changes.append((change, actor))


def new_member(username: str) -> Member:
    return Member(Person.objects.create(kind=KIND), username)
