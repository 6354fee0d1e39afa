"""Ingest: read source files as streams of records, recognise their layout, prepare rows for the database.

readers/ turn a file or folder into records (one at a time, memory independent of file size);
records.py replaces images by content-addressed references; layouts.py and columns.py describe what
was read; writer.py moves prepared rows into the database in bulk. The service that drives them is
curation/services/ingest.py.
"""
