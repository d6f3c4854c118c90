from django import template

from adminpanel.audit import words

register = template.Library()
register.filter("event_label", words.event_label)
register.filter("details_in_words", words.details_in_words)
