"""The reports layer: what people read about grading.

One result as text (:mod:`.text`), nbgrader feedback rules (:mod:`.feedback`), the class report
(CSV and a self-contained HTML page), similarity between submissions, and progress bars. It
reads results and the gradebook through the layers below and never grades.
"""
