package githubtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Release is a GitHub release to publish on a repository (PublishRelease),
// such as anthraxx/linux-hardened's v6.12.64-hardened1 with its patch and
// signature.
type Release struct {
	Tag               string
	Name              string // "" means Tag
	Draft, Prerelease bool
	Assets            []Asset
	// Source is the tag's source tarball (a gzipped tar of one top-level
	// directory), served at github.com's {owner}/{repo}/archive/{tag}.tar.gz,
	// where fetchFromGitHub fetches it; nil serves none.
	Source []byte
}

// Asset is one file attached to a release.
type Asset struct {
	Name        string
	Data        []byte
	ContentType string // "" means application/octet-stream
}

// release is a published release as the server keeps it.
type release struct {
	id        int64
	rel       Release
	assetIDs  []int64
	published time.Time
}

// PublishRelease publishes rel on owner/name as the newest release. The list
// (GET /repos/{owner}/{repo}/releases) shows it first, each asset with
// GitHub's "sha256:<hex>" digest and a browser_download_url on this server,
// {URL}/{owner}/{name}/releases/download/{tag}/{asset}: github.com's path, so
// a client that rewrites https://github.com to URL downloads from here.
func (s *Server) PublishRelease(owner, name string, rel Release) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(owner, name)
	if r == nil {
		return fmt.Errorf("githubtest: no repository %s/%s (CreateRepo it first)", owner, name)
	}
	if rel.Tag == "" || strings.Contains(rel.Tag, "/") {
		return fmt.Errorf("githubtest: release tag %q: want a non-empty tag without slashes", rel.Tag)
	}
	key := owner + "/" + name
	for _, o := range s.releases[key] {
		if o.rel.Tag == rel.Tag {
			return fmt.Errorf("githubtest: %s already has a release %s", key, rel.Tag)
		}
	}
	seen := map[string]bool{}
	pr := &release{id: s.newID(), published: s.now()}
	for _, a := range rel.Assets {
		if a.Name == "" || strings.Contains(a.Name, "/") || seen[a.Name] {
			return fmt.Errorf("githubtest: release %s: asset name %q is empty, has a slash or is repeated", rel.Tag, a.Name)
		}
		seen[a.Name] = true
		pr.assetIDs = append(pr.assetIDs, s.newID())
	}
	pr.rel = rel
	pr.rel.Assets = slices.Clone(rel.Assets)
	pr.rel.Source = slices.Clone(rel.Source)
	for i := range pr.rel.Assets {
		pr.rel.Assets[i].Data = slices.Clone(rel.Assets[i].Data)
	}
	if s.releases == nil {
		s.releases = map[string][]*release{}
	}
	s.releases[key] = append(s.releases[key], pr)
	return nil
}

// ReleaseAssetURL is where PublishRelease serves an asset.
func (s *Server) ReleaseAssetURL(owner, name, tag, asset string) string {
	return s.srv.URL + "/" + owner + "/" + name + "/releases/download/" + tag + "/" + asset
}

// listReleases is GET /repos/{owner}/{repo}/releases: newest first, paged.
func (s *Server) listReleases(c *call) {
	r := c.repo()
	if r == nil {
		return
	}
	rels := slices.Clone(s.releases[r.owner+"/"+r.name])
	slices.Reverse(rels)
	lo, hi := c.page(len(rels))
	out := []obj{}
	for _, rel := range rels[lo:hi] {
		out = append(out, s.releaseObj(r, rel))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) releaseObj(r *repo, rel *release) obj {
	name := rel.rel.Name
	if name == "" {
		name = rel.rel.Tag
	}
	u := s.restURL("repos/%s/%s/releases/%d", r.owner, r.name, rel.id)
	assets := []obj{}
	for i, a := range rel.rel.Assets {
		sum := sha256.Sum256(a.Data)
		assets = append(assets, obj{
			"id": rel.assetIDs[i], "node_id": "RA_" + strconv.FormatInt(rel.assetIDs[i], 10), "name": a.Name, "label": nil,
			"state": "uploaded", "content_type": contentType(a), "size": len(a.Data), "download_count": 0,
			"digest":               "sha256:" + hex.EncodeToString(sum[:]),
			"url":                  s.restURL("repos/%s/%s/releases/assets/%d", r.owner, r.name, rel.assetIDs[i]),
			"browser_download_url": s.ReleaseAssetURL(r.owner, r.name, rel.rel.Tag, a.Name),
			"created_at":           stamp(rel.published), "updated_at": stamp(rel.published), "uploader": s.userObj(r.owner),
		})
	}
	return obj{
		"id": rel.id, "node_id": "RE_" + strconv.FormatInt(rel.id, 10), "tag_name": rel.rel.Tag, "name": name,
		"target_commitish": r.defaultBranch, "draft": rel.rel.Draft, "prerelease": rel.rel.Prerelease,
		"created_at": stamp(rel.published), "published_at": stamp(rel.published), "author": s.userObj(r.owner),
		"url": u, "assets_url": u + "/assets", "upload_url": s.URL() + "/uploads/repos/" + r.owner + "/" + r.name + "/releases/" + strconv.FormatInt(rel.id, 10) + "/assets{?name,label}",
		"html_url":    s.webURL("%s/%s/releases/tag/%s", r.owner, r.name, rel.rel.Tag),
		"tarball_url": s.restURL("repos/%s/%s/tarball/%s", r.owner, r.name, rel.rel.Tag),
		"zipball_url": s.restURL("repos/%s/%s/zipball/%s", r.owner, r.name, rel.rel.Tag),
		"assets":      assets,
	}
}

func contentType(a Asset) string {
	if a.ContentType != "" {
		return a.ContentType
	}
	return "application/octet-stream"
}

// ArchiveURL is where PublishRelease serves a release's Source: github.com's
// path of a tag's tarball.
func (s *Server) ArchiveURL(owner, name, tag string) string {
	return s.srv.URL + "/" + owner + "/" + name + "/archive/" + tag + ".tar.gz"
}

// serveArchive answers GET {owner}/{repo}/archive/{tag}.tar.gz and
// {owner}/{repo}/archive/refs/tags/{tag}.tar.gz with the Source of the
// release of that tag. It reports whether the path was one.
func (s *Server) serveArchive(w http.ResponseWriter, req *http.Request) bool {
	parts := strings.SplitN(strings.TrimPrefix(req.URL.Path, "/"), "/", 4)
	if len(parts) != 4 || parts[2] != "archive" || !strings.HasSuffix(parts[3], ".tar.gz") {
		return false
	}
	owner, name := parts[0], parts[1]
	tag := strings.TrimPrefix(strings.TrimSuffix(parts[3], ".tar.gz"), "refs/tags/")
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	s.mu.Lock()
	var data []byte
	for _, rel := range s.releases[owner+"/"+name] {
		if rel.rel.Tag == tag {
			data = rel.rel.Source
		}
	}
	s.mu.Unlock()
	if data == nil {
		http.NotFound(w, req)
		return true
	}
	w.Header().Set("Content-Type", "application/x-gzip")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodGet {
		w.Write(data)
	}
	return true
}

// serveReleaseAsset answers GET {owner}/{repo}/releases/download/{tag}/{name}
// (github.com's download path; GitHub redirects to a CDN, the simulator
// answers directly). It reports whether the path was one.
func (s *Server) serveReleaseAsset(w http.ResponseWriter, req *http.Request) bool {
	parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/"), "/")
	if len(parts) != 6 || parts[2] != "releases" || parts[3] != "download" {
		return false
	}
	owner, name, tag, file := parts[0], parts[1], parts[4], parts[5]
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	s.mu.Lock()
	var found *Asset
	for _, rel := range s.releases[owner+"/"+name] {
		if rel.rel.Tag != tag {
			continue
		}
		for i := range rel.rel.Assets {
			if rel.rel.Assets[i].Name == file {
				found = &rel.rel.Assets[i]
			}
		}
	}
	s.mu.Unlock()
	if found == nil {
		http.NotFound(w, req)
		return true
	}
	w.Header().Set("Content-Type", contentType(*found))
	w.Header().Set("Content-Length", strconv.Itoa(len(found.Data)))
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodGet {
		w.Write(found.Data)
	}
	return true
}
