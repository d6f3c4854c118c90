from django import template

from adminpanel.twofactor import interface

register = template.Library()
# {% if person|two_factor_on %}: from the annotations of with_two_factor() when loaded with them.
register.filter("two_factor_on", interface.is_enabled)
