"""Run Debian's wapiti 3.0.4 with its -x/--exclude option working.

wapiti 3.0.4 turns each -x pattern into re.compile(regex + r'\Z(?ms)'),
with the inline flags at the end; Python 3.11 refuses that ("global flags
not at the start of the expression") and wapiti dies before crawling. This
wrapper replaces that one function with the same translation, flags first,
then runs wapiti's own entry point with the given arguments. Run it with
the Python that wapiti's launcher names (/usr/bin/python3 on Debian).
"""

import re
import sys

import wapitiCore.net.crawler as crawler


def wildcard_translate(pattern):
    """'*' matches anything; every other character matches itself."""
    regex = "".join(".*" if char == "*" else re.escape(char) for char in pattern)
    return re.compile(r"(?ms)" + regex + r"\Z")


crawler.wildcard_translate = wildcard_translate

from wapitiCore.main.wapiti import wapiti_main  # noqa: E402  (after the patch)

if __name__ == "__main__":
    sys.argv[0] = "wapiti"
    sys.exit(wapiti_main())
