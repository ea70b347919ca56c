#!/usr/bin/env bash
# The README's tour, run for real: a sample tree, a sink, two pushes, log,
# diff of what changed, and a checkout. Leaves everything under ./demo.
set -euo pipefail
emu="${1:?usage: demo.sh PATH-TO-EMU}"
top="$(pwd)/demo"
rm -rf "$top"
mkdir -p "$top/home/docs" "$top/home/photos"
cd "$top/home"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "A sample tree in $top/home"
printf 'Dear diary,\ntoday I made a backup.\n' > docs/diary.txt
printf 'milk\neggs\n' > docs/shopping.txt
head -c 2000000 /dev/urandom > photos/beach.jpg
head -c 1000000 /dev/urandom > photos/cat.jpg
ln -s docs/diary.txt diary

step "$emu" init
step "$emu" sink add usb "$top/usb-disk/backup"
step "$emu" push -m "first backup"

sleep 1
echo; echo "Now change files: edit one, add one, delete one."
printf 'bread\n' >> docs/shopping.txt
printf 'new idea\n' > docs/ideas.txt
rm photos/cat.jpg

step "$emu" push -v -m "second backup"
step "$emu" log
step "$emu" log --short
step "$emu" diff HEAD~1 HEAD
step "$emu" status
echo; echo "Unchanged files share one inode across snapshots:"
step sh -c "stat -c '%i %h %n' '$top/usb-disk/backup'/*/photos/beach.jpg"
step "$emu" verify
step "$emu" checkout usb:HEAD~1
step ls -l photos docs
step "$emu" show usb:HEAD:docs/shopping.txt

cat <<MSG

Done. The sink is at:
  $top/usb-disk/backup
Browse it with ls or a file manager: each dated folder is a full snapshot.
  ls -l "$top/usb-disk/backup"
MSG
