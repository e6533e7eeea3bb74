"""The GitHub client (PyGithub underneath): credentials in auth, caching and
rate limits in transport, the methods the rest of Prow calls in client, and
the plain values those methods return in types."""
