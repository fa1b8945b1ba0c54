"""The README's quickstart runs as written."""
import os
import re


def test_quickstart_runs():
    path = os.path.join(os.path.dirname(__file__), '..', 'README.md')
    code = re.search(r'```python\n(.*?)```', open(path).read(), re.S)
    scope = {}
    exec(code.group(1), scope)
    assert tuple(scope['out'].shape) == (4, 8)


def test_readme_sections_come_from_result_files():
    """Importing benchmarks/update_readme.py writes nothing; its output is
    the README's block between its markers and the whole of
    docs/results.md, and the script holds no measured number (digits only
    in file names and headings)."""
    import importlib.util
    root = os.path.join(os.path.dirname(__file__), '..')
    readme = os.path.join(root, 'README.md')
    before = open(readme).read()
    path = os.path.join(root, 'benchmarks', 'update_readme.py')
    spec = importlib.util.spec_from_file_location('update_readme', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert open(readme).read() == before
    block = mod.render()
    assert block.startswith(mod.BEGIN) and block.endswith(mod.END)
    assert before.count(mod.BEGIN) == 1 and block in before
    page = os.path.join(root, 'docs', 'results.md')
    assert open(page).read() == mod.render_results()
    for text in (before, open(page).read()):  # results, not the day's work
        for phrase in ('this VM', 'session', 'no device', 'of the day',
                       '../shared'):
            assert phrase not in text, phrase
    src = open(path).read()
    numbers = re.findall(r'(?<![\w.])\d+(?:\.\d+)?\s*(?:ms|s|x|%|GiB)\b',
                         src)
    assert numbers == [], numbers
