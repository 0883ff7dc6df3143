"""nbgrader's exchange for the class server: the config every student's server and the teacher see.

Installed as .venv/etc/jupyter/nbgrader_config.py by `scripts/hub/homework.py install-config`
(scripts/hub/start.sh runs it), so `nbgrader ...` on the command line and the Assignments panel
of every student's JupyterLab (nbgrader's lab extension) find the same exchange and course.

- the exchange is a folder on this machine: SEQHW_EXCHANGE_ROOT, default /srv/nbgrader/exchange
  (homework.py setup creates it as root, mode 1777: everyone may create entries there, nobody may
  rename or delete anyone else's; inside it nbgrader keeps <course>/outbound (released, readable by
  all), <course>/inbound (mode 2733: students write their submissions, nobody but the teacher can
  list them) and <course>/feedback (mode 711: a student finds only the files whose names are the
  hash of their own submission's secret));
- one course: SEQHW_COURSE_ID, default seqcourse (the course id of build/nbgrader, made by
  scripts/assignments.py);
- a fetched assignment lands in the student's home as ~/<assignment>/ (e.g. ~/04_bptt/).

The teacher's own settings (course folder, execution time limit, the grading user) live in the
course folder's nbgrader_config.py and in homework.py; nothing here is secret.
"""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = os.environ.get("SEQHW_COURSE_ID", "seqcourse")
c.Exchange.root = os.environ.get("SEQHW_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = False
