"""Every shell command shown in README.md and docs/*.md still runs as written.

What is extracted and checked: ``doc_commands.py`` (its docstring). The checks are themselves
checked on broken commands known in advance (a flag a script lacks, a mistyped config, ...).
"""
import os.path as osp
from typing import Dict, List

import pytest
from doc_commands import (REPO, Command, all_commands, check_command, collect_helps,
                          extract_commands, script_of)


@pytest.fixture(scope='module')
def commands() -> List[Command]:
    return all_commands()


@pytest.fixture(scope='module')
def helps(commands) -> Dict[str, str]:
    scripts = sorted({script_of(c.text) for c in commands} - {''})
    scripts = [s for s in scripts if s.startswith(('tools/', 'benchmarks/'))
               and osp.isfile(osp.join(REPO, s))]
    return collect_helps(scripts + ['tools/train.py'] * ('tools/train.py' not in scripts))


def test_extractor_reads_fences_inline_spans_continuations_and_env():
    text = '\n'.join([
        'Run `python tools/make_digits_lt.py', 'data/digits_lt` first.', '',
        '```bash', '# a comment line', 'NNODES=2 PORT=1 bash tools/dist_train.sh CONFIG 8   # node',
        'python tools/infer.py C K x.jpg \\', '    --out p.csv [--tta]', 'tensorboard --logdir w',
        '```', '', '```python', 'python tools/not_a_command.py', '```',
        '```', 'data/aliproducts/', '```',
        'and `make demo`, `tools/x.py --a`, not `tools/x.py` or `--b`.'])
    assert extract_commands(text, 'x.md') == [
        Command('x.md', 6, 'bash tools/dist_train.sh CONFIG 8'),
        Command('x.md', 7, 'python tools/infer.py C K x.jpg --out p.csv [--tta]'),
        Command('x.md', 1, 'python tools/make_digits_lt.py data/digits_lt'),
        Command('x.md', 18, 'make demo'), Command('x.md', 18, 'python tools/x.py --a')]


def test_the_docs_show_the_recipe_commands(commands):
    texts = {c.text for c in commands}
    for expected in ['make demo', 'make test',
                     'python tools/train.py configs/aliprod/resnest50_stage1.py',
                     'bash tools/dist_train.sh configs/aliprod/resnest50_stage1.py 8',
                     'bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG work_dirs/JOB']:
        assert expected in texts, f'{expected!r} is no longer shown in README.md or docs/'
    shown = {c.doc for c in commands}
    assert {'README.md', 'docs/data.md', 'docs/methods.md', 'docs/performance.md'} <= shown


def test_every_command_runs_as_written(commands, helps):
    broken = [h for h in helps.values() if h.startswith('ERROR')]
    assert not broken, '\n'.join(broken)
    problems = [f'{c.where()}\n    {p}' for c in commands for p in check_command(c, helps)]
    assert not problems, 'commands in the docs that do not run as written:\n' + '\n'.join(
        problems)


@pytest.mark.parametrize('text, problem', [
    ('python tools/train.py configs/aliprod/resnest50_stage1.py --no-such-flag',
     '--no-such-flag is not an option of tools/train.py'),
    ('python tools/train.py configs/aliprod/resnest50_stage_1.py',
     'config configs/aliprod/resnest50_stage_1.py does not exist'),
    ('python tools/test.py configs/demo/digits_lt_{stage1,stage3}.py CKPT',
     'config configs/demo/digits_lt_stage3.py does not exist'),
    ('python tools/no_such_tool.py CONFIG', 'script tools/no_such_tool.py does not exist'),
    ('bash tools/no_such.sh CONFIG 8', 'tools/no_such.sh does not exist'),
    ('make demoo', "make target 'demoo' is not in the Makefile"),
    ("pip install -e '.[deploi]'", 'extra [deploi] is not in setup.cfg'),
    ('python -c "from aliprod_plugins import upstream; upstream.print_fingerprint()"',
     "upstream has no attribute 'print_fingerprint'")])
def test_the_checks_catch_a_broken_command(helps, text, problem):
    found = check_command(Command('x.md', 1, text), helps)
    assert any(p.startswith(problem) for p in found), found
    fixed = Command('x.md', 1, {
        'python tools/train.py configs/aliprod/resnest50_stage1.py --no-such-flag':
            'python tools/train.py configs/aliprod/resnest50_stage1.py --work-dir w'}.get(
                text, 'make demo'))
    assert check_command(fixed, helps) == []
