"""CWL frontend (planned): documents read with cwl-utils. Translates nothing yet."""
