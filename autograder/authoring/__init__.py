"""The authoring layer: the instructor's tools for proving an assignment.

Known-wrong tables (:mod:`.known_wrong`, one per assignment in its suite folder), ``nngrade
validate`` (answer key full marks, release zero, every known-wrong row loses exactly its
checks, then the suite's digest is recorded), mutation testing of a suite, regrading after a
suite fix, and notebook helpers. It uses every layer below and is used only by the CLI.
"""
