"""Finding the shell commands shown in README.md and docs/*.md and checking each one.

Commands are taken from fenced code blocks (``bash``, ``shell``, ``console`` or no language;
backslash continuations joined, comments and leading ``VAR=value`` dropped) and from inline code
spans that start like a command (``python tools/...``, ``make ...``) or name a script with
arguments (``tools/test.py CONFIG CKPT --tta``). For each one:

- ``python SCRIPT ...``: the script exists; for ``tools/`` and ``benchmarks/`` scripts every
  ``--flag`` shown appears in the script's own ``--help`` (one worker process per core runs the
  scripts' ``--help`` in-process, so torch and MMEngine are imported once per worker);
- any ``configs/...py`` named in a command exists (``{a,b}`` brace lists expanded);
- ``bash tools/X.sh``: the script exists, is executable and passes ``bash -n``;
- ``make T``: ``T`` is a target of the Makefile; ``pip install -e '.[E]'``: ``E`` is an extra
  of setup.cfg; ``python -c CODE``: the code compiles and its ``from aliprod_plugins...``
  imports and ``module.attr`` uses resolve.

Placeholders in capitals (``CONFIG``, ``CHECKPOINT``) and paths that a run would create are
not checked. Run as a script (``python THIS help SCRIPT...``) it is the ``--help`` worker.
"""
import ast
import configparser
import contextlib
import io
import json
import os
import os.path as osp
import re
import runpy
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, NamedTuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOC_FILES = ['README.md'] + sorted(
    osp.join('docs', name) for name in os.listdir(osp.join(REPO, 'docs')) if name.endswith('.md'))
SHELL_LANGS = {'', 'bash', 'sh', 'shell', 'console'}
STARTS = ('python ', '.venv/bin/python ', 'bash tools/', 'make ', 'pip install ', 'srun python ')
FLAG = re.compile(r'(?<![\w-])(--[A-Za-z][\w-]*)')
ENV_ASSIGN = re.compile(r'^[A-Z_][A-Z0-9_]*=\S*$')


class Command(NamedTuple):
    """One command as a doc shows it."""
    doc: str  # file, relative to the repository
    line: int  # 1-based line where it starts
    text: str  # the command, continuations joined, comment and env assignments removed

    def where(self) -> str:
        return f'{self.doc}:{self.line}: {self.text}'


def _clean(line: str) -> str:
    """Drop a trailing comment and leading ``VAR=value`` assignments."""
    line = re.sub(r'(^|\s)#.*$', '', line).strip()
    words = line.split()
    while words and ENV_ASSIGN.match(words[0]):
        words.pop(0)
    return ' '.join(words).strip()


def extract_commands(text: str, doc: str = '<doc>') -> List[Command]:
    """The commands of a Markdown text: fenced shell blocks, then inline code spans."""
    commands, lines, i = [], text.split('\n'), 0
    prose = []  # lines outside fences, with their numbers, for the inline spans
    while i < len(lines):
        fence = re.match(r'^\s*```\s*(\w*)\s*$', lines[i])
        if not fence:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        lang, i = fence.group(1).lower(), i + 1
        while i < len(lines) and not re.match(r'^\s*```\s*$', lines[i]):
            start, line = i + 1, lines[i]
            while line.rstrip().endswith('\\') and i + 1 < len(lines):
                i += 1
                line = line.rstrip()[:-1] + ' ' + lines[i].strip()
            cmd = _clean(line)
            if lang in SHELL_LANGS and cmd.startswith(STARTS):
                commands.append(Command(doc, start, cmd))
            i += 1
        i += 1
    # inline spans may wrap over lines; the numbers say where they start
    joined = '\n'.join(line for _, line in prose)
    for match in re.finditer(r'`([^`]+)`', joined):
        cmd = _clean(' '.join(match.group(1).split()))
        if re.match(r'(tools|benchmarks)/[\w/]+\.py ', cmd):  # `tools/x.py ARGS`, no python
            cmd = 'python ' + cmd
        elif re.match(r'tools/[\w/]+\.sh ', cmd):
            cmd = 'bash ' + cmd
        if cmd.startswith(STARTS):
            line_no = prose[joined.count('\n', 0, match.start())][0]
            commands.append(Command(doc, line_no, cmd))
    return commands


def all_commands() -> List[Command]:
    found = []
    for doc in DOC_FILES:
        with open(osp.join(REPO, doc), encoding='utf-8') as f:
            found += extract_commands(f.read(), doc)
    return found


def _expand_braces(word: str) -> List[str]:
    m = re.search(r'\{([^{}]*,[^{}]*)\}', word)
    if not m:
        return [word]
    return [w for alt in m.group(1).split(',')
            for w in _expand_braces(word[:m.start()] + alt + word[m.end():])]


def _words(cmd: str) -> List[str]:
    try:
        return shlex.split(cmd)
    except ValueError:
        return cmd.split()


def script_of(cmd: str) -> str:
    """The Python script a ``python`` command runs ('' for ``-c`` / ``-m`` / not python)."""
    words = _words(cmd.replace('srun ', '', 1))
    if not words or not words[0].endswith('python') or len(words) < 2:
        return ''
    return '' if words[1].startswith('-') else words[1]


def _makefile_targets() -> set:
    with open(osp.join(REPO, 'Makefile')) as f:
        return set(re.findall(r'^([\w.-]+):', f.read(), re.M))


def _extras() -> set:
    cfg = configparser.ConfigParser()
    cfg.read(osp.join(REPO, 'setup.cfg'))
    return set(cfg['options.extras_require'])


def _check_python_c(code: str) -> List[str]:
    import importlib
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        return [f'python -c code does not compile: {err}']
    problems, names = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                try:
                    module = importlib.import_module(node.module)
                    names[alias.asname or alias.name] = getattr(module, alias.name)
                except (ImportError, AttributeError) as err:
                    problems.append(f'cannot import {alias.name} from {node.module}: {err}')
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in names and not hasattr(names[node.value.id], node.attr)):
            problems.append(f'{node.value.id} has no attribute {node.attr!r}')
    return problems


def check_command(cmd: Command, helps: Dict[str, str]) -> List[str]:
    """What is wrong with one command (empty if it runs as written, as far as checked)."""
    problems, words = [], _words(cmd.text)
    for word in words:
        for path in _expand_braces(word.split('=', 1)[-1]):
            if path.startswith('configs/') and path.endswith('.py') \
                    and not osp.isfile(osp.join(REPO, path)):
                problems.append(f'config {path} does not exist')
    if words[0] == 'make':
        problems += [f'make target {t!r} is not in the Makefile'
                     for t in words[1:] if not t.startswith('-') and t not in _makefile_targets()]
    elif words[:2] == ['pip', 'install']:
        for word in words[2:]:
            extras = re.fullmatch(r'\.(?:\[([\w,-]+)\])?', word)
            if word.startswith('-'):
                continue
            if not extras:
                problems.append(f'pip install of {word!r}: only the repository (.) is known')
            elif extras.group(1):
                problems += [f'extra [{e}] is not in setup.cfg'
                             for e in extras.group(1).split(',') if e not in _extras()]
    elif words[0] == 'bash':
        path = osp.join(REPO, words[1])
        if not osp.isfile(path):
            problems.append(f'{words[1]} does not exist')
        else:
            if not os.access(path, os.X_OK):
                problems.append(f'{words[1]} is not executable')
            res = subprocess.run(['bash', '-n', path], capture_output=True, text=True)
            if res.returncode:
                problems.append(f'bash -n {words[1]}: {res.stderr.strip()}')
    elif '-c' in words[1:2]:
        problems += _check_python_c(words[2])
    elif '-m' in words[1:2]:
        problems += [f'{w} does not exist' for w in words[3:]
                     if w.startswith('tests/') and not osp.exists(osp.join(REPO, w.split('::')[0]))]
    else:
        script = script_of(cmd.text)
        if not osp.isfile(osp.join(REPO, script)):
            problems.append(f'script {script} does not exist')
        elif script in helps:
            help_text = helps[script]
            for flag in dict.fromkeys(FLAG.findall(cmd.text)):
                if not re.search(rf'(?<![\w-]){re.escape(flag)}(?![\w-])', help_text):
                    problems.append(f'{flag} is not an option of {script} (not in its --help)')
    return problems


def _help_worker(scripts: List[str]) -> None:
    """Print ``{script: help text or 'ERROR ...'}`` as JSON: each script's ``--help``."""
    out = {}
    for script in scripts:
        buf, path = io.StringIO(), osp.join(REPO, script)
        sys.argv, saved_path = [path, '--help'], list(sys.path)
        sys.path.insert(0, osp.dirname(path))
        code = None
        try:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
                runpy.run_path(path, run_name='__main__')
        except SystemExit as exit_:
            code = exit_.code
        except BaseException as err:  # noqa: B036  report, do not stop the other scripts
            code = f'{type(err).__name__}: {err}'
        finally:
            sys.path[:] = saved_path
        out[script] = buf.getvalue() if code in (0, None) and '--help' in buf.getvalue() \
            else f'ERROR: {script} --help exited with {code!r}'
    print(json.dumps(out))


def collect_helps(scripts: List[str], workers: int = 2) -> Dict[str, str]:
    """Each script's ``--help`` text, from ``workers`` processes run side by side."""
    chunks = [scripts[i::workers] for i in range(workers) if scripts[i::workers]]
    env = dict(os.environ, PYTHONPATH=REPO, CUDA_VISIBLE_DEVICES='')

    def run(chunk):
        res = subprocess.run([sys.executable, osp.abspath(__file__), 'help', *chunk], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f'--help worker failed on {chunk}:\n{res.stderr[-3000:]}'
        return json.loads(res.stdout.strip().splitlines()[-1])

    helps = {}
    with ThreadPoolExecutor(len(chunks)) as pool:
        for part in pool.map(run, chunks):
            helps.update(part)
    return helps


if __name__ == '__main__' and sys.argv[1:2] == ['help']:
    _help_worker(sys.argv[2:])
