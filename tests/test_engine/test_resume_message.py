"""The resume note names the position as preemption does: epoch and batch counted from 1."""
import torch

from aliprod_plugins.engine.resume import resolve_resume


def test_resume_note_matches_the_preemption_message(tmp_path):
    # preempted "after iteration 16 (epoch 2, batch 5/11)": one epoch of 11 batches + 5
    path = str(tmp_path / 'iter_16.pth')
    torch.save({'meta': {'epoch': 1, 'iter': 16, 'inner_iter': 5}, 'state_dict': {},
                'message_hub': {}}, path)
    notes = ' '.join(text for _, text in resolve_resume(str(tmp_path), path).notes)
    assert '16 iterations done; continues with epoch 2, batch 6' in notes
    plan = resolve_resume(str(tmp_path), 'auto')
    assert 'continues with epoch 2, batch 6' in ' '.join(text for _, text in plan.notes)
