package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxWebhookBytes caps a delivery's body. The events kupdate acts on are a
// few tens of KiB; a push with many commits stays well below this.
const maxWebhookBytes = 5 << 20

// serveWebhook takes GitHub deliveries. Only a signed delivery is read;
// a merge or push into a promotion source branch (promote.pairs[].from), or a
// completed check suite on one, queues the promotion step, once per
// delivery (promoteOnce). Everything else is acknowledged with 202 and the
// reason it was ignored, which GitHub shows under the webhook's Recent
// Deliveries.
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request) {
	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	log := s.log.With("event", event, "delivery", delivery)
	reply := func(code int, result, format string, args ...any) {
		s.metrics.webhook(metricEvent(event), result)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		fmt.Fprintf(w, format+"\n", args...)
	}

	if len(s.secret) == 0 {
		reply(http.StatusServiceUnavailable, "disabled",
			"webhook disabled: kupdate has no webhook secret; set the environment variable %s (serve.webhook_secret_env) to the secret configured on GitHub and restart kupdate",
			s.secretEnvName())
		return
	}
	if s.isDraining() {
		reply(http.StatusServiceUnavailable, "unavailable", "kupdate is shutting down; redeliver this event once it is back")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			reply(http.StatusRequestEntityTooLarge, "rejected", "payload larger than %d bytes", maxWebhookBytes)
			return
		}
		reply(http.StatusBadRequest, "rejected", "reading the payload: %v", err)
		return
	}
	// Nothing of the payload is looked at before its signature checks out.
	if !validSignature(r.Header.Get("X-Hub-Signature-256"), body, s.secret) {
		log.Warn("webhook rejected: bad or missing signature", "remote", r.RemoteAddr)
		reply(http.StatusUnauthorized, "rejected",
			"invalid or missing X-Hub-Signature-256: the webhook's secret on GitHub must equal the value of %s", s.secretEnvName())
		return
	}
	// GitHub's other content type wraps the JSON in a form field; the
	// signature covers the form as sent.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			reply(http.StatusBadRequest, "rejected", "malformed form payload: %v", err)
			return
		}
		body = []byte(form.Get("payload"))
	}

	trigger, ignored, err := s.decide(event, delivery, body)
	switch {
	case err != nil:
		log.Warn("webhook rejected: malformed payload", "error", err)
		reply(http.StatusBadRequest, "rejected", "malformed %s payload: %v", event, err)
	case event == "ping":
		log.Info("webhook ping")
		reply(http.StatusOK, "ok", "pong")
	case ignored != "":
		log.Debug("webhook ignored", "why", ignored)
		reply(http.StatusAccepted, "ignored", "ignored: %s", ignored)
	default:
		code, result, msg := s.promoteOnce(log, delivery, trigger)
		reply(code, result, "%s", msg)
	}
}

// promoteOnce queues the promotion a delivery triggers, unless the same
// delivery (by X-GitHub-Delivery) was acted on already: a repeat is answered
// 200 and queues nothing. It is reached only by a delivery whose signature
// checked out, so a forged request cannot make kupdate ignore the genuine
// delivery of the same id; and an id is remembered only once its promotion
// was queued (or joined the one already waiting), so a delivery refused
// during shutdown is acted on when redelivered.
func (s *Server) promoteOnce(log *slog.Logger, delivery, trigger string) (code int, result, msg string) {
	repeat := s.deliveries.once(delivery, func() bool {
		queued, waiting, err := s.requestPromotion(trigger)
		switch {
		case err != nil:
			code, result, msg = http.StatusServiceUnavailable, "unavailable", "kupdate is shutting down; redeliver this event once it is back"
			return false
		case queued:
			log.Info("webhook: promotion queued", "trigger", trigger)
			code, result, msg = http.StatusAccepted, "triggered", "promotion queued: "+trigger
		default:
			log.Info("webhook: a promotion is already queued", "queued", waiting)
			code, result = http.StatusAccepted, "pending"
			msg = fmt.Sprintf("a promotion is already queued (%s); it will see this change too", waiting)
		}
		return true
	})
	if repeat {
		log.Info("webhook: delivery already handled; nothing to do")
		return http.StatusOK, "duplicate", fmt.Sprintf("delivery %s already handled; a repeat queues nothing (the next cycle promotes too; kupdate promote promotes now)", delivery)
	}
	return code, result, msg
}

// The few fields of GitHub's webhook payloads that decide reads. They are
// declared here rather than taken from go-github so that go-github stays
// confined to workflow/ and a major bump of it touches one package.
type hookRepo struct {
	FullName string `json:"full_name"`
}

type pullRequestEvent struct {
	Action      string   `json:"action"`
	Number      int      `json:"number"`
	Repository  hookRepo `json:"repository"`
	PullRequest struct {
		Merged bool `json:"merged"`
		Base   struct {
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
}

type pushEvent struct {
	Ref        string   `json:"ref"`
	After      string   `json:"after"`
	Deleted    bool     `json:"deleted"`
	Repository hookRepo `json:"repository"`
}

type checkSuiteEvent struct {
	Action     string   `json:"action"`
	Repository hookRepo `json:"repository"`
	CheckSuite struct {
		HeadBranch string `json:"head_branch"`
		Conclusion string `json:"conclusion"`
	} `json:"check_suite"`
}

// decide says whether an event triggers a promotion: the trigger text for the
// status page, or why it is ignored. err is a payload that does not parse.
func (s *Server) decide(event, delivery string, body []byte) (trigger, ignored string, err error) {
	switch event {
	case "ping":
		return "", "", nil
	case "pull_request", "push", "check_suite":
	default:
		return "", fmt.Sprintf("event %q: kupdate acts on pull_request, push and check_suite", event), nil
	}
	var (
		repo string
		what string // the trigger, when the event concerns a source branch
		why  string // why not, otherwise
	)
	switch event {
	case "pull_request":
		var e pullRequestEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return "", "", err
		}
		repo = e.Repository.FullName
		base := e.PullRequest.Base.Ref
		if e.Action == "closed" && e.PullRequest.Merged && s.isSource(base) {
			what = fmt.Sprintf("pull_request #%d merged into %s", e.Number, base)
		} else {
			why = fmt.Sprintf("pull_request #%d %s (base %s): only a merge into %s triggers a promotion",
				e.Number, e.Action, base, s.sourceList())
		}
	case "push":
		var e pushEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return "", "", err
		}
		repo = e.Repository.FullName
		branch, isBranch := strings.CutPrefix(e.Ref, "refs/heads/")
		if isBranch && !e.Deleted && s.isSource(branch) {
			what = fmt.Sprintf("push to %s (%.12s)", branch, e.After)
		} else {
			why = fmt.Sprintf("push to %s: only a push to %s triggers a promotion", e.Ref, s.sourceList())
		}
	case "check_suite":
		var e checkSuiteEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return "", "", err
		}
		repo = e.Repository.FullName
		cs := e.CheckSuite
		if e.Action == "completed" && s.isSource(cs.HeadBranch) {
			what = fmt.Sprintf("check_suite completed on %s (%s)", cs.HeadBranch, cs.Conclusion)
		} else {
			why = fmt.Sprintf("check_suite %s on %q: only a completed suite on %s triggers a promotion",
				e.Action, cs.HeadBranch, s.sourceList())
		}
	}
	switch {
	case !strings.EqualFold(repo, s.repo):
		return "", fmt.Sprintf("%s event for %q: kupdate watches %s (github.owner/github.repo)", event, repo, s.repo), nil
	case why != "":
		return "", why, nil
	case !s.promoteOn:
		return "", what + ", but promotion is off (promote.enabled = false)", nil
	}
	if delivery != "" {
		what += ", delivery " + delivery
	}
	return "webhook " + what, "", nil
}

func (s *Server) isSource(branch string) bool {
	return slices.Contains(s.sources, branch) || (s.sourceMatch != nil && branch != "" && s.sourceMatch(branch))
}

func (s *Server) sourceList() string {
	switch {
	case len(s.sources) == 0:
		return "a promotion source"
	case s.sourceMatch != nil:
		return strings.Join(s.sources, " or ") + " (or another promotion source)"
	}
	return strings.Join(s.sources, " or ")
}

// validSignature checks GitHub's "sha256=<hex HMAC of the body>" in constant
// time.
func validSignature(header string, body, secret []byte) bool {
	sig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// metricEvent keeps the event label's values bounded: anybody can send any
// X-GitHub-Event header.
func metricEvent(event string) string {
	switch event {
	case "ping", "pull_request", "push", "check_suite":
		return event
	}
	return "other"
}
