"""What the service brings to each person across domains: what their roles open (reach), what
waits for them (todo), and the mail that tells them (notifications)."""
