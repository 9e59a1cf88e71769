"""Yutang's AWS CDK app: stack definition (stack.py) and what it reads from the code (derive.py)."""
