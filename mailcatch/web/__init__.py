"""The web side: the Starlette app, the Mailpit API, the MailHog face, views, info and the websocket."""
