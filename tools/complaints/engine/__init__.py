"""The scan engine: every case file checked in worker processes, in path order, answered from
the result cache where it holds, with the per-case derivations (deadlines, facts, receipt rows)
computed in the worker that parsed the file."""
