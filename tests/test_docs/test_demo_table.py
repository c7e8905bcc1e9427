"""The README's demo table is the table ``make demo`` prints, to the character.

The figures are what the demo printed (seed 0, pinned kernels); this test checks the form: the
README's table, read back into numbers and formatted by the demo's own ``format_table``, gives
the README's text again, and docs/methods.md shows the same table. Known in advance: the
demo's rows and the stage-2 top-1 error of 10.00 it printed.
"""
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HEADER = '| `make demo` (seed 0), % |'


def demo_table(doc: str) -> str:
    with open(osp.join(REPO, doc), encoding='utf-8') as f:
        lines = f.read().split('\n')
    start = next(i for i, line in enumerate(lines) if line.startswith(HEADER))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith('|'))
    return '\n'.join(lines[start:end])


def _demo_module() -> dict:
    # the module that prints the demo's table (imported by tools/run_demo.py)
    from aliprod_plugins.runs import demo_report
    return vars(demo_report)


def test_readme_demo_table_is_what_make_demo_prints():
    readme = demo_table('README.md')
    demo = _demo_module()
    labels = {label: key for key, label in demo['row_labels'](30, 40).items()}
    results = {}
    for row in readme.split('\n')[2:]:
        cells = [c.strip() for c in row.strip('|').split('|')]
        results[labels[cells[0]]] = {m: float(v) for m, v in zip(demo['TABLE_METRICS'], cells[1:])}
    assert list(results) == list(labels.values())  # every row, in the order printed
    assert results['stage2']['top1_error'] == 10.00
    assert demo['format_table'](results, 0, 30, 40) == readme


def test_methods_page_shows_the_same_demo_table():
    assert demo_table('docs/methods.md') == demo_table('README.md')


def test_demo_time_is_the_same_everywhere():
    for doc in ('README.md', 'docs/methods.md', 'docs/performance.md'):
        with open(osp.join(REPO, doc), encoding='utf-8') as f:
            text = ' '.join(f.read().split())
        assert '1 min 56 s' in text, doc
        assert not re.search(r'3-4 min', text), doc
