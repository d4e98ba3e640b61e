package kernelorg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/kupdate/kupdate/fetch"
)

// Releases reads {URL}/releases.json and returns one Release per branch,
// ordered by CompareSeries (oldest series first, "testing" last). Each call
// starts a new cycle: sha256sums.asc files are fetched at most once per cycle.
//
// The request is conditional on the copy from the previous call (or, in a
// new process, on the copy kept in Options.CacheDir), so a poll with nothing
// new costs one request answered 304, and returns that copy.
//
// Rows are selected by moniker and version, never by position:
//   - linux-next rows are skipped (nixpkgs does not package them);
//   - a mainline rc goes to branch "testing", a mainline final release X.Y
//     to branch "X.Y", stable and longterm rows to their series;
//   - when a branch has several rows (mainline "6.18" next to stable
//     "6.18.1"), the highest version wins; the branch is LTS if any of its
//     rows is longterm, EOL as its winning row says.
//
// A row that is not linux-next and whose version fails ParseVersion, or whose
// moniker is unknown, fails the whole call with an error naming the URL and
// the row: dropping it instead would make its branch look removed upstream,
// and the planner would act on that.
func (c *Client) Releases(ctx context.Context) ([]Release, error) {
	c.relMu.Lock()
	defer c.relMu.Unlock()
	c.mu.Lock()
	c.cycle++
	c.mu.Unlock()

	u := c.base + "/releases.json"
	name := bodyCacheName("releases.json")
	if !c.relLoaded {
		c.relLoaded = true
		c.loadReleases(name, u)
	}
	var data []byte
	res, err := c.get(ctx, u, c.relVal, maxReleasesBytes, readAll(&data))
	if err != nil {
		return nil, err
	}
	if res.NotModified {
		c.log.Debug("releases.json not modified", "url", u)
		return slices.Clone(c.releases), nil
	}
	rels, err := parseReleases(u, data, c.log)
	if err != nil {
		return nil, err
	}
	c.relVal, c.releases = res.Validators, rels
	c.store.Save(name, u, fetch.Body{Validators: res.Validators, Data: data})
	return slices.Clone(rels), nil
}

// loadReleases takes the copy of releases.json kept on disk, if it is
// intact and still parses, as the one a conditional request asks about.
func (c *Client) loadReleases(name, u string) {
	e, ok := c.store.Load(name, u)
	if !ok {
		return
	}
	rels, err := parseReleases(u, e.Data, c.log)
	if err != nil {
		c.log.Warn("ignoring a cached releases.json that does not parse; fetching in full", "file", c.store.File(name), "error", err)
		return
	}
	c.relVal, c.releases = e.Validators, rels
}

type releasesDoc struct {
	Releases *[]json.RawMessage `json:"releases"`
}

type releaseRow struct {
	Moniker  *string `json:"moniker"`
	Version  *string `json:"version"`
	IsEOL    bool    `json:"iseol"`
	Released *struct {
		ISODate   string `json:"isodate"`
		Timestamp int64  `json:"timestamp"`
	} `json:"released"`
	Source    *string `json:"source"`
	ChangeLog *string `json:"changelog"`
}

// parseReleases maps releases.json (fetched from u, named in errors) to one
// Release per branch. Unknown fields are ignored.
func parseReleases(u string, data []byte, log *slog.Logger) ([]Release, error) {
	var doc releasesDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not releases.json: %w (body starts %q)", u, err, truncate(string(bytes.TrimSpace(data)), 60))
	}
	if doc.Releases == nil {
		return nil, fmt.Errorf("%s: no \"releases\" array", u)
	}
	byBranch := map[string]*Release{}
	lts := map[string]bool{}
	for i, raw := range *doc.Releases {
		var row releaseRow
		if err := json.Unmarshal(raw, &row); err != nil {
			return nil, fmt.Errorf("%s: releases[%d]: %w", u, i, err)
		}
		if row.Moniker == nil || row.Version == nil {
			return nil, fmt.Errorf("%s: releases[%d]: want string fields \"moniker\" and \"version\"", u, i)
		}
		moniker, version := *row.Moniker, *row.Version
		where := fmt.Sprintf("%s: releases[%d] (moniker %q, version %q)", u, i, truncate(moniker, 40), truncate(version, 40))
		switch moniker {
		case "linux-next":
			log.Debug("skipping linux-next release", "url", u, "row", i, "version", version)
			continue
		case "mainline", "stable", "longterm":
		default:
			return nil, fmt.Errorf("%s: unknown moniker: want mainline, stable, longterm or linux-next (has kernel.org changed its format?)", where)
		}
		v, err := ParseVersion(version)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if v.IsRC() && moniker != "mainline" {
			return nil, fmt.Errorf("%s: a release candidate listed as %s: only mainline has rcs", where, moniker)
		}
		r := Release{
			Version: v,
			Branch:  v.Branch(),
			Moniker: moniker,
			EOL:     row.IsEOL,
		}
		if row.Released != nil {
			if d, err := time.Parse(time.DateOnly, row.Released.ISODate); err == nil {
				r.Released, r.ReleasedAt = row.Released.ISODate, d
				if ts := row.Released.Timestamp; ts > 0 {
					r.ReleasedAt = time.Unix(ts, 0).UTC()
				}
			} else {
				log.Warn("releases.json: ignoring a release date that is not YYYY-MM-DD", "url", u, "row", i, "version", version, "isodate", row.Released.ISODate)
			}
		}
		if row.Source != nil {
			r.Source = *row.Source
		}
		if row.ChangeLog != nil {
			r.ChangeLog = *row.ChangeLog
		}
		if moniker == "longterm" {
			lts[r.Branch] = true
		}
		if old, ok := byBranch[r.Branch]; !ok || old.Version.Less(v) {
			byBranch[r.Branch] = &r
		}
	}
	if len(byBranch) == 0 {
		return nil, errors.New(u + ": lists no mainline, stable or longterm release")
	}
	out := make([]Release, 0, len(byBranch))
	for b, r := range byBranch {
		r.LTS = lts[b]
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Release) int { return CompareSeries(a.Branch, b.Branch) })
	return out, nil
}
