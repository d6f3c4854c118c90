"""The sections of the panel (SPEC §2): one list, and everything that names a section reads it.

The Account's permission fields, the menu, the Sub-Admin form and list, the permission checks,
the urls and pages of managed data and the API's permission schemas are derived from SECTIONS.
A new section is one row here, its level field on Account and in the API's permission schemas
(tests/unit/test_sections.py checks they agree), its migration, and its own pages.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str  # the Account's permission field, the URL path, the API's permission name
    label: str  # the menu entry, the Sub-Admin form's field, the page title
    noun: str  # one item, in sentences: "Added the mailbox …"
    plural: str  # several items: "3 mailboxes"

    @property
    def url(self) -> str:
        return f"/{self.key}"


SECTIONS = (
    Section("domains", "Domains", "domain", "domains"),
    Section("users", "Users", "mailbox", "mailboxes"),
    Section("aliases", "Aliases", "alias", "aliases"),
    Section("logs", "Logs", "event", "events"),
)
KEYS = tuple(section.key for section in SECTIONS)
BY_KEY = {section.key: section for section in SECTIONS}
