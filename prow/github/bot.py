"""Text the bot signs its comments with, wherever in the project they are
written (plugins' replies, the reporter's failure summary)."""

ABOUT_BOT = (
    "Instructions for interacting with me using PR comments are available "
    "[here](https://git.k8s.io/community/contributors/guide/pull-requests.md).  "
    "If you have questions or suggestions related to my behavior, please file an "
    "issue against the [kubernetes-sigs/prow]"
    "(https://github.com/kubernetes-sigs/prow/issues/new?title=Prow%20issue:) "
    "repository."
)
