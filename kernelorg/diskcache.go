package kernelorg

// The last releases.json and each checksum folder's sha256sums.asc are
// kept on disk (fetch.Store, in Options.CacheDir/http-cache), so that a new
// process (a `kupdate run` from cron) makes the same conditional request as
// a running service and reuses the body on a 304. Nothing in them is
// trusted: releases.json is checked against its digest and parsed again,
// a sha256sums.asc has its signature verified again, and a copy that fails
// either is ignored (the request is then unconditional).

// cacheDirName holds the kept bodies under Options.CacheDir.
const cacheDirName = "http-cache"

// bodyCacheName is the name a file is kept under: "releases.json" or a
// checksum folder ("v6.x").
func bodyCacheName(name string) string {
	if name != "releases.json" {
		name += "-sha256sums.asc"
	}
	return name + ".entry"
}
