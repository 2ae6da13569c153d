"""E-mail: a support mailbox read over IMAP and answered over SMTP."""
