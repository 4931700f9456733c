"""The IMAP drafts sink (`outputs.imap_drafts`): any mailbox over TLS, via imapclient."""
