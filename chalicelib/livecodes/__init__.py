"""Live codes (活码): one permanent QR routing each scan to a group, staff or URL target."""
