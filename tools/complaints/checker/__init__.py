"""The per-file checker: one case file's bytes in, its problems out (strict YAML, schema,
lifecycle, vocabularies, personal data), and the same care for the site's hand-written pages."""
