#!/usr/bin/env bash
# Builds the Debian package of the garden: a self-contained binary (the Swift runtime and
# Foundation linked in: --static-swift-stdlib) in /usr/bin, and the shipped Config/,
# Sites/ and Lessons/ as read-only defaults in /usr/share/walled-garden, for `walled-garden init DIR`.
#
#   Scripts/package.sh                 # release build (what a teacher installs)
#   Scripts/package.sh --debug         # a debug build: quick, for CI's install test
#
# Writes walled-garden_VERSION_ARCH.deb in the current folder and prints its name.
# Install: apt-get install ./walled-garden_*.deb   (pulls in libxml2)
set -euo pipefail
cd "$(dirname "$0")/.."

configuration=release
[ "${1:-}" = "--debug" ] && configuration=debug

# Foundation's static archives refer to each other (Foundation needs CoreFoundation,
# which needs the ICU and the shims): linked as one group, or the link can fail with
# undefined CF symbols depending on which of Foundation's objects the binary pulls in.
foundation=(Foundation CoreFoundation _FoundationICU FoundationEssentials FoundationInternationalization _FoundationCShims _FoundationCollections)
group=(-Xlinker --start-group)
for library in "${foundation[@]}"; do group+=(-Xlinker "-l$library"); done
group+=(-Xlinker --end-group)
swift build -c "$configuration" --product walled-garden --static-swift-stdlib "${group[@]}" >&2
bin=$(swift build -c "$configuration" --show-bin-path)/walled-garden

# A tag (v1.2) gives the version; without one, 0.0~git and the commit.
if tag=$(git describe --tags --abbrev=0 2>/dev/null); then
  version=$(git describe --tags | sed 's/^v//; s/-\([0-9]*\)-g/+\1.g/')
else
  version="0.0~git$(git rev-parse --short HEAD)"
fi
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

install -D -m 0755 "$bin" "$root/usr/bin/walled-garden"
[ "$configuration" = release ] && strip "$root/usr/bin/walled-garden"
mkdir -p "$root/usr/share/walled-garden"
# The committed files only (no desk password, no logs), read-only.
git ls-files -z -- Config Sites Lessons | git checkout-index -z --stdin --prefix="$root/usr/share/walled-garden/"
chmod -R a-w,a+rX "$root/usr/share/walled-garden"
chmod u+w "$root/usr/share/walled-garden"
install -D -m 0644 README.md "$root/usr/share/doc/walled-garden/README.md"
for doc in docs/teachers-guide.md docs/configuration.md docs/operations.md; do install -D -m 0644 "$doc" "$root/usr/share/doc/walled-garden/$doc"; done

mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: walled-garden
Version: $version
Architecture: $arch
Maintainer: Walled Garden maintainers <walled-garden@localhost>
Depends: libxml2, libstdc++6, zlib1g
Section: education
Priority: optional
Description: a classroom simulation of a censored national intranet
 Serves a small set of demo sites behind a censoring proxy whose rules the teacher
 edits live: allowlists, block pages and HTTP 451, fake "not found", redirects,
 keyword filters, content rewriting, throttling, schedules and a surveillance log,
 with a teacher's desk, explain and probe. Start with: walled-garden init DIR.
CONTROL

deb="walled-garden_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >&2
echo "$deb"
