"""Attachments: files on tickets and billing requests, uploaded by API or arriving by mail."""
