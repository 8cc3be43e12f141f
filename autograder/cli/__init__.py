"""The command line: ``nngrade`` and its commands, the top layer.

Each command parses its options, finds the course and calls one function of a lower layer;
errors a user can fix are printed as one line. Nothing below imports from here.
"""
