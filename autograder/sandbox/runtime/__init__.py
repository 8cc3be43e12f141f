"""The sandbox layer, student side: the files the student's process runs.

They are copied into the sandbox and loaded by path (``python -I worker.py``), so they import
only the standard library, NumPy and IPython and never the ``autograder`` package: ``worker``
(the zygote, keeper and call server), ``confine`` (namespaces, mounts, capabilities, seccomp),
``shell`` (cells run as Jupyter runs them), ``codec`` (values across the boundary) and
``protocol`` (message names and frames, shared with the host side).
"""
