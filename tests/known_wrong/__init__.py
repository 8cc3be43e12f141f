"""Known-wrong submissions, one table per assignment (see autograder/mutants.py)."""
