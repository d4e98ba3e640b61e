#!/bin/sh
# A tier command at its worst: it ignores SIGTERM (and so do its children),
# and leaves a grandchild whose parent has exited in its process group.
# $1 is the attribute, $2 how long to sleep (the test's marker); with $3 =
# "leave" it exits 0 at once, leaving the grandchild behind.
trap '' TERM
( sleep "$2" & )
echo "started $1"
if [ "$3" = leave ]; then
	exit 0
fi
sleep "$2"
