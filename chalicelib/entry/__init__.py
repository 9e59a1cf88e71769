"""Entry domains: the printed QR points at a stable entry (``/e/{slug}``) that only redirects to a
landing domain of the tenant's own list, so a landing domain WeChat blocks is swapped without a
reprint."""
