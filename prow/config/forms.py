from django import forms

from prow.config.text import normalize_newlines, too_large
from prow.config.validation import CONFIG_FILE, PLUGINS_FILE, validate

_TEXTAREA = {"rows": 28, "cols": 100, "spellcheck": "false", "class": "vLargeTextField"}


class ConfigEditForm(forms.Form):
    config_yaml = forms.CharField(
        label="config.yaml",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs=_TEXTAREA),
    )
    plugins_yaml = forms.CharField(
        label="plugins.yaml",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs=_TEXTAREA),
    )
    comment = forms.CharField(
        required=False, max_length=500, help_text="Why this change (shown in history)."
    )

    def clean(self):
        data = super().clean()
        for field in ("config_yaml", "plugins_yaml"):
            if field in data:
                problem = too_large(data[field])
                if problem:
                    self.add_error(field, problem)
                    continue
                data[field] = normalize_newlines(data[field])
        if self.errors:
            # Checking the other file alone would only report it against
            # an empty one.
            return data
        result = validate(data.get("config_yaml", ""), data.get("plugins_yaml", ""))
        for issue in result.errors:
            field = "config_yaml" if issue.file == CONFIG_FILE else "plugins_yaml"
            self.add_error(field, _describe(issue))
        self.warnings = [str(w) for w in result.warnings]
        return data


def _describe(issue) -> str:
    where = f"line {issue.line}" if issue.line else "file"
    name = CONFIG_FILE if issue.file == CONFIG_FILE else PLUGINS_FILE
    return f"{name} {where}: {issue.path}: {issue.message}"
