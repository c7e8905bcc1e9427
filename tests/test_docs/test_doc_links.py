"""Every relative link of README.md and docs/*.md points at a file, and at a heading there.

Anchors follow GitHub's rule: the heading lower-cased, punctuation other than ``-`` and ``_``
dropped, spaces turned into ``-``.
"""
import os
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOCS = ['README.md'] + sorted(osp.join('docs', n) for n in os.listdir(osp.join(REPO, 'docs'))
                              if n.endswith('.md'))


def anchor(heading: str) -> str:
    text = re.sub(r'[^\w\- ]', '', heading.strip().lower().replace('`', ''))
    return text.replace(' ', '-')


def anchors(path: str) -> set:
    with open(path, encoding='utf-8') as f:
        text = re.sub(r'```.*?```', '', f.read(), flags=re.S)  # no '#' comments of code
    return {anchor(h) for h in re.findall(r'^#{1,6} (.+)$', text, re.M)}


def test_anchor_rule():
    assert anchor('Packed data: disk and loader speed') == 'packed-data-disk-and-loader-speed'
    assert anchor('Glyphs-LT: the two-stage recipe on 1,000 classes') == \
        'glyphs-lt-the-two-stage-recipe-on-1000-classes'


def test_every_relative_link_resolves():
    broken = []
    for doc in DOCS:
        with open(osp.join(REPO, doc), encoding='utf-8') as f:
            text = f.read()
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            if re.match(r'[a-z]+://', target):
                continue
            path, _, frag = target.partition('#')
            full = osp.normpath(osp.join(REPO, osp.dirname(doc), path)) if path \
                else osp.join(REPO, doc)
            if not osp.exists(full):
                broken.append(f'{doc}: {target}: no file {osp.relpath(full, REPO)}')
            elif frag and full.endswith('.md') and frag not in anchors(full):
                broken.append(f'{doc}: {target}: no heading #{frag} in {osp.relpath(full, REPO)}')
    assert not broken, '\n'.join(broken)
