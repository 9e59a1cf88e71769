"""The mini-program API (/mp/v1): login through code2session, signed user tokens."""
