#!/usr/bin/env bash
# Screenshots of the lesson packs, made with headless Chromium through the garden as a
# proxy: for each pack, every line of Lessons/NAME/screenshots.txt ("FILE CLASS URL")
# becomes Lessons/NAME/screenshots/FILE (1000×700 PNG). Run from the repository, with a
# built garden (swift build) and chromium installed; it uses ports 28080-28083.
#
#   Scripts/lesson-screenshots.sh              # every pack that has a screenshots.txt
#   Scripts/lesson-screenshots.sh kwangmyong   # one pack
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)/walled-garden
[ -x "$bin" ] || { echo "build the garden first: swift build" >&2; exit 1; }
command -v chromium >/dev/null || { echo "needs chromium" >&2; exit 1; }
packs=("$@")
if [ ${#packs[@]} -eq 0 ]; then
  for list in Lessons/*/screenshots.txt; do packs+=("$(basename "$(dirname "$list")")"); done
fi
declare -A port=([citizen]=28080 [official]=28081 [foreigner]=28082 [soldier_abroad]=28083)
for pack in "${packs[@]}"; do
  list="Lessons/$pack/screenshots.txt"
  [ -f "$list" ] || { echo "no $list" >&2; exit 1; }
  mkdir -p "Lessons/$pack/screenshots"
  "$bin" serve --lesson "$pack" --desk off \
    --listen 127.0.0.1:28080=citizen --listen 127.0.0.1:28081=official \
    --listen 127.0.0.1:28082=foreigner --listen 127.0.0.1:28083=soldier_abroad >/tmp/walled-garden-screenshots.log 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:28080/ && break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null || { echo "the garden did not start:" >&2; cat /tmp/walled-garden-screenshots.log >&2; exit 1; }
  while read -r file class url; do
    [[ -z "$file" || "$file" == \#* ]] && continue
    profile=$(mktemp -d)
    chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
      --window-size=1000,700 --proxy-server="http://127.0.0.1:${port[$class]}" \
      --screenshot="Lessons/$pack/screenshots/$file" "$url" >/dev/null 2>&1 || true
    rm -rf "$profile"
    echo "$pack: $file ($class, $url): $(stat -c %s "Lessons/$pack/screenshots/$file" 2>/dev/null || echo missing) bytes"
  done <"$list"
  kill -TERM "$pid"
  wait "$pid" || true
  trap - EXIT
done
