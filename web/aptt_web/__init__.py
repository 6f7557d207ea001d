"""The web pages of the APTT Platform: families, teachers and school staff.

A server-rendered edge: it signs people in with the district's identity provider and calls
the four services' HTTP APIs with the signed-in person's token. It keeps sessions and
nothing else (docs/decisions/0600-web-pages.md).
"""
