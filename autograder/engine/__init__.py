"""The engine layer: one submission graded from values, in the trusted process.

:mod:`.assignment` reads an assignment (source notebook, graded parts, locked cells),
:mod:`.integrity` reads and checks its hidden suite before any student code runs, :mod:`.grade`
runs the notebook in the sandbox and the suite under pytest (:mod:`.plugin`), and
:mod:`.results` holds what was decided; :mod:`.cache` stores results keyed by everything that
decides them. It builds on the sandbox layer and knows nothing of nbgrader, batches or reports.
"""
