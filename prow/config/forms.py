from django import forms

from prow.config.text import normalize_newlines, too_large
from prow.config.validation import CONFIG_FILE, PLUGINS_FILE, validate

# data-editor asks prow/config/editor.js for a code editor; without
# JavaScript the plain textarea is the form field.
_TEXTAREA = {
    "rows": 28,
    "cols": 100,
    "spellcheck": "false",
    "class": "vLargeTextField",
    "data-editor": "yaml",
}


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
        self.warnings = []
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
        lines: dict[str, set[int]] = {}
        for issue in result.errors:
            field = "config_yaml" if issue.file == CONFIG_FILE else "plugins_yaml"
            self.add_error(field, _describe(issue))
            if issue.line:
                lines.setdefault(field, set()).add(issue.line)
        # The editor marks these lines; this form's fields are its own copies.
        for field, numbers in lines.items():
            self.fields[field].widget.attrs["data-error-lines"] = " ".join(
                str(n) for n in sorted(numbers)
            )
        self.warnings = [str(w) for w in result.warnings]
        return data


def _describe(issue) -> str:
    where = f"line {issue.line}" if issue.line else "file"
    name = CONFIG_FILE if issue.file == CONFIG_FILE else PLUGINS_FILE
    return f"{name} {where}: {issue.path}: {issue.message}"
