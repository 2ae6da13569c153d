"""Box: the document store where customers' attachments are kept once, a folder per customer."""
