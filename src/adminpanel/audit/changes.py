"""What an edit changed, for the log: each field's old and new value (never pass a secret)."""


def edits(before: dict, after: dict) -> dict:
    """{field: {"from": old, "to": new}} for each field of `after` whose value changed."""
    return {
        field: {"from": before.get(field), "to": value}
        for field, value in after.items()
        if before.get(field) != value
    }
