"""Yutang (鱼塘): a serverless backend for private-domain traffic in the WeChat ecosystem."""
