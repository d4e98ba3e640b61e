package githubtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// installationToken exchanges a GitHub App's JWT for an installation token:
// RS256, signed with the app's key, iss the app id, at most 10 minutes long.
func (s *Server) installationToken(c *call) {
	raw := strings.TrimPrefix(c.r.Header.Get("Authorization"), "Bearer ")
	var a *app
	tok, err := jwt.Parse(raw, func(t *jwt.Token) (any, error) {
		iss, err := t.Claims.GetIssuer()
		if err != nil {
			return nil, err
		}
		if iss == "" { // iss may be a number
			if m, ok := t.Claims.(jwt.MapClaims); ok {
				if f, ok := m["iss"].(float64); ok {
					iss = strconv.FormatInt(int64(f), 10)
				}
			}
		}
		id, _ := strconv.ParseInt(iss, 10, 64)
		if a = s.apps[id]; a == nil {
			return nil, fmt.Errorf("no app %q", iss)
		}
		return a.key, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithLeeway(time.Minute))
	if err != nil || !tok.Valid {
		c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded")
		return
	}
	exp, _ := tok.Claims.GetExpirationTime()
	iat, _ := tok.Claims.GetIssuedAt()
	if exp == nil || iat == nil || exp.Sub(iat.Time) > 11*time.Minute {
		c.fail(http.StatusUnauthorized, "'Expiration time' claim ('exp') is too far in the future")
		return
	}
	id, _ := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	if id != a.installation {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	token := "ghs_" + hex.EncodeToString(b)
	expires := time.Now().Add(time.Hour).Truncate(time.Second)
	s.instTok[token] = &installationToken{app: a, expires: expires}
	c.json(http.StatusCreated, obj{"token": token, "expires_at": stamp(expires), "repository_selection": "all"})
}
