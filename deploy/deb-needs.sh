#!/bin/sh
# deb-needs.sh DEB FIELD...: the package names a .deb's control fields
# (Depends, Recommends) name, one a line, sorted: versions dropped, the
# first of alternatives kept.  The images install these in a layer of
# their own before the .deb itself, so a source change (a new .deb) does
# not fetch the libraries again while the list stays the same.
set -eu
deb=$1
shift
for field in "$@"; do
	dpkg-deb -f "$deb" "$field"
done | tr ',' '\n' | sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/[[:space:]]//g' \
    | grep -v '^$' | sort -u
