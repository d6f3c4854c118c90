from django import forms


class LogFilterForm(forms.Form):
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Inclusive.",
    )
    actor = forms.CharField(label="Actor", required=False, max_length=150)
    text = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Words of the event, an IP address, a name in the details…",
    )
    event = forms.CharField(label="Event", required=False, max_length=64)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("“From” must be on or before “To”.")
        return data
