"""The README's quickstart runs as written."""
import os
import re


def test_quickstart_runs():
    path = os.path.join(os.path.dirname(__file__), '..', 'README.md')
    code = re.search(r'```python\n(.*?)```', open(path).read(), re.S)
    scope = {}
    exec(code.group(1), scope)
    assert tuple(scope['out'].shape) == (4, 8)
