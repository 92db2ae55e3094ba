#!/usr/bin/env bash
# Makes the pictures of the README's interpretability tour (docs/interp/*.png) with the jsteer
# command line on the built-in default model, so they can be checked and redrawn:
#   scripts/interp-tour.sh [OUT_DIR]     (default: a temporary folder; the PNGs are copied to docs/interp/)
# The default model is built the same way everywhere, so the numbers in the pictures repeat.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work" "$repo/docs/interp"
jsteer="${JSTEER:-$repo/jsteer}"   # JSTEER: another launcher of the same build

# logit lens: probability of each next prompt token, read out after the embedding and after every block
"$jsteer" lens -m default -p "The groom kissed the bride and everyone cheered" --top-k 5 \
    -o "$work/lens.json" --plot "$work/lens.png" --force
cp "$work/lens.png" "$repo/docs/interp/lens.png"

# attention patterns of every head: block 0's head 0 is the previous-token head
"$jsteer" attention -m default -p "The groom kissed the bride and everyone cheered" -o "$work/attention" --force
cp "$work/attention/attention-L0-H0.png" "$repo/docs/interp/attention-L0-H0.png"

# direct logit attribution of logit(' wedding') - logit(' battle') at the last position
"$jsteer" dla -m default -p "The bride and the groom danced at the" --answers " wedding, battle" -o "$work/dla" --force
cp "$work/dla/dla-layers.png" "$repo/docs/interp/dla-layers.png"

# activation patching: love-story prompt (clean) into a war-story prompt (corrupted), metric logit(' wedding') - logit(' battle')
"$jsteer" patch -m default --clean "The bride and the groom danced at the" --corrupt "The soldier and the captain fought at the" \
    --answers " wedding, battle" --heads -o "$work/patch" --force
cp "$work/patch/patch-resid_pre.png" "$repo/docs/interp/patch-resid_pre.png"
cp "$work/patch/patch-attn_out.png" "$repo/docs/interp/patch-attn_out.png"
cp "$work/patch/patch-heads.png" "$repo/docs/interp/patch-heads.png"

echo "pictures in $repo/docs/interp; full outputs in $work"
