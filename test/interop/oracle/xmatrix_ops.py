"""Oracle ops of one area (see README.md)."""

from typing import Callable, Dict

from oracle import Request, Result

OPS: Dict[str, Callable[[Request], Result]] = {}
