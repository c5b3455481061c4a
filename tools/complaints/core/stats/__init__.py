"""Aggregate statistics of the complaint mechanism, safe to publish.

metrics.py   every metric's definition (formula text, cells, page): the one place to add a metric
periods.py   months, quarters and years
facts.py     what the statistics may know of a case (keys, flags, dates; never free text)
publication.py  the policy's publication settings (threshold, minimum base, update cadence)
tables.py    the counting lattice, its protection and the report read out of it
audit.py     the linear-programming audit of a suppression pattern
history.py   past years and quarters with the change on a year before

The repository edge (reading the cases, the data's commit, the cache) is commands/stats.py.
"""
