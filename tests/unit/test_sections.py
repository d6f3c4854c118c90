"""The one list of sections (adminpanel.sections) and the places that spell a field for each:
the Account's permission levels and the API's permission schemas agree with it."""

import pytest

from adminpanel.accounts.models import Account
from adminpanel.api.schemas import Permissions, PermissionsIn, PermissionsPatch
from adminpanel.sections import KEYS


def test_the_account_has_one_level_field_per_section():
    levels = [f.name for f in Account._meta.get_fields() if getattr(f, "choices", None)]
    assert sorted(levels) == sorted(KEYS)


@pytest.mark.parametrize("schema", [Permissions, PermissionsIn, PermissionsPatch])
def test_the_api_names_one_permission_per_section(schema):
    assert list(schema.model_fields) == list(KEYS)
