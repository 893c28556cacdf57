"""The hardening checklist and its compliance run: the controls as data (checklist.yml, loaded by
checklist.py), their document (checklist_doc.py), and the run of tests/compliance/ against an
inventory, written as a JUnit XML file and a readable Markdown report (`python -m ops.compliance`)."""
