"""Convert a SegFormer checkpoint (NVlabs, mmseg, HAMLET) to the project's keys.

    python tools/convert_weights.py IN.pth OUT.pth [--layout auto|nvlabs|mmseg|hamlet]
        [--parts encoder decoder] [--config MODEL_CONFIG] [--trusted-checkpoint]

The encoder goes to ``MixTransformer``. The head keeps its network: NVlabs and
HAMLET heads load into ``OriginalSegFormerHead`` / ``ModularSegFormerHead`` (set
``model.decode_head.type``), mmseg's into mmseg's ``SegformerHead``.
With ``--config`` the result is loaded into that config's model first: a shape
mismatch (e.g. a B1 checkpoint for a B5 config) is an error, and missing or
unexpected keys are printed as a table. The logic is
:func:`mmseg_ext.models.utils.convert_checkpoint_file`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_ext  # noqa: E402,F401
from mmseg_ext.models.utils import LAYOUTS, PARTS, convert_checkpoint_file  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='input checkpoint')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--layout', choices=[x for x in LAYOUTS if x != 'project'],
                        default='auto', help='key layout of the input')
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS),
                        help='keep the encoder, the decoder or both')
    parser.add_argument('--config', help='model config to check the result against')
    parser.add_argument('--trusted-checkpoint', action='store_true',
                        help='fully unpickle the input (only for files you trust)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    info = convert_checkpoint_file(args.src, args.dst, args.layout, args.parts,
                                   args.config, args.trusted_checkpoint)
    print(f"{args.src} ({info['layout']} layout) -> {args.dst}: {info['num_keys']} "
          f"tensors ({', '.join(args.parts)})")
    return info


if __name__ == '__main__':
    main()
