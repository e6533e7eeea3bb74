"""Pages and JSON beyond the job list: history, PR, plugin help, badges,
and the original's /prowjobs.js, /tide.js, /tide-history.js."""

urlpatterns = []
