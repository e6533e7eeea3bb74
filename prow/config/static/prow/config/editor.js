// Turns the config textareas into CodeMirror editors (monospace, line
// numbers, YAML colours). The textarea stays the form field: CodeMirror
// copies its text back on submit, and without this script the page works
// as a plain form.
"use strict";

(function () {
  if (typeof CodeMirror === "undefined") {
    return;
  }

  // YAML refuses tabs for indentation, so Tab indents with spaces.
  function indent(cm) {
    if (cm.somethingSelected()) {
      cm.indentSelection("add");
    } else {
      cm.replaceSelection(" ".repeat(cm.getOption("indentUnit")), "end");
    }
  }

  function goTo(editor, line) {
    editor.focus();
    editor.setCursor({ line: line - 1, ch: 0 });
    editor.scrollIntoView({ line: line - 1, ch: 0 }, 100);
  }

  document.querySelectorAll('textarea[data-editor="yaml"]').forEach(function (area) {
    var editor = CodeMirror.fromTextArea(area, {
      mode: "yaml",
      lineNumbers: true,
      indentUnit: 2,
      tabSize: 2,
      indentWithTabs: false,
      extraKeys: {
        Tab: indent,
        "Shift-Tab": "indentLess",
        // Keyboard users leave the editor with Esc, then Tab.
        Esc: function (cm) {
          cm.getInputField().blur();
        },
      },
    });
    (area.dataset.errorLines || "").split(" ").forEach(function (number) {
      var line = parseInt(number, 10);
      if (line > 0 && line <= editor.lineCount()) {
        editor.addLineClass(line - 1, "wrap", "config-error-line");
      }
    });
    // Each error names its line ("config.yaml line 14: ..."): a click on
    // it puts the cursor there.
    var errors = document.getElementById(area.name + "-errors");
    if (errors) {
      errors.querySelectorAll("li").forEach(function (item) {
        var match = /\bline (\d+):/.exec(item.textContent);
        if (match) {
          item.dataset.line = match[1];
          item.title = "Go to line " + match[1];
          item.addEventListener("click", function () {
            goTo(editor, parseInt(match[1], 10));
          });
        }
      });
    }
  });
})();
