"""The hardening compliance run: the checklist of tests/compliance/ against an inventory, as a
JUnit XML file and a readable Markdown report (`python -m ops.compliance --env NAME`)."""
