"""The SMTP side: the protocol (every aiosmtpd override), the handler that stores each message, the transcript."""
