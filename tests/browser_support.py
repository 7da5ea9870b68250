"""What the browser tests share."""


def forget_who_was_here(page) -> None:
    """Leave the page and drop its cookies, as a new person on the same browser would.

    The page is left first: a stylesheet or script still loading answers with the old person's
    refreshed session cookie, which would land after the clearing and make the next form's
    CSRF token belong to another session (a 400 at the next log-in, seen in CI).
    """
    page.wait_for_load_state("load")
    page.goto("about:blank")
    page.context.clear_cookies()
