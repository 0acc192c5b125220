/*
 * Sign-in with the OIDC issuer the API trusts (SPEC §9.5): discovery, authorization code + PKCE
 * (S256) with `state` and `nonce` checked, silent refresh before the access token expires, and
 * sign-out that ends the issuer's session. The page's <body> names the issuer and the UI's
 * public client (data-oidc-issuer, data-oidc-client-id; server settings, no inline script).
 *
 * Tokens live in sessionStorage only (this tab): the access token under "amdsync.token", which
 * app.js sends as the bearer; the refresh and ID tokens and the expiry under "amdsync.oidc".
 * Nothing goes into cookies, localStorage or the address bar (the code is removed from it).
 */
(function () {
  "use strict";

  var ACCESS_KEY = "amdsync.token";
  var SESSION_KEY = "amdsync.oidc";
  var PENDING_KEY = "amdsync.oidc.pending";
  var REFRESH_MARGIN_MS = 60 * 1000; // refresh a minute before expiry
  var body = document.body;
  var refreshTimer = null;

  function setting(name) {
    return (body && body.getAttribute("data-" + name)) || "";
  }

  function issuer() {
    return setting("oidc-issuer").replace(/\/+$/, "");
  }

  function enabled() {
    return Boolean(issuer() && setting("oidc-client-id"));
  }

  function save(key, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, typeof value === "string" ? value : JSON.stringify(value));
    } catch (e) {
      /* storage disabled: nothing survives this page */
    }
  }

  function load(key) {
    try {
      var text = window.sessionStorage.getItem(key);
      return text ? JSON.parse(text) : null;
    } catch (e) {
      return null;
    }
  }

  function base64url(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString() {
    var bytes = new Uint8Array(32);
    window.crypto.getRandomValues(bytes);
    return base64url(bytes);
  }

  function challengeOf(verifier) {
    var data = new TextEncoder().encode(verifier);
    return window.crypto.subtle.digest("SHA-256", data).then(function (digest) {
      return base64url(new Uint8Array(digest));
    });
  }

  function payloadOf(jwt) {
    var parts = String(jwt || "").split(".");
    if (parts.length !== 3) return null;
    try {
      return JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")));
    } catch (e) {
      return null;
    }
  }

  // The sign-in page is the redirect URI, and where sign-out comes back to.
  function signInUrl() {
    var url = new URL("sign-in", window.location.href);
    return url.origin + url.pathname;
  }

  function SignInError(code) {
    this.code = code;
  }

  function discover() {
    var expected = issuer();
    return fetch(expected + "/.well-known/openid-configuration", { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new SignInError("discovery");
        return response.json();
      })
      .then(function (doc) {
        // The document must speak for the configured issuer (OIDC Discovery §4.3).
        if (String(doc.issuer || "").replace(/\/+$/, "") !== expected) throw new SignInError("issuer");
        return doc;
      });
  }

  function tokenRequest(endpoint, form) {
    return fetch(endpoint, {
      method: "POST",
      cache: "no-store",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams(form).toString(),
    }).then(function (response) {
      return response.json().then(
        function (answer) {
          if (!response.ok || !answer.access_token) throw new SignInError("token");
          return answer;
        },
        function () {
          throw new SignInError("token");
        }
      );
    });
  }

  function keep(answer, endpoints) {
    var prior = load(SESSION_KEY) || {};
    save(ACCESS_KEY, answer.access_token);
    save(SESSION_KEY, {
      refreshToken: answer.refresh_token || prior.refreshToken || null,
      idToken: answer.id_token || prior.idToken || null,
      expiresAt: Date.now() + Number(answer.expires_in || 3600) * 1000,
      tokenEndpoint: endpoints.tokenEndpoint,
      endSession: endpoints.endSession,
    });
  }

  // Step 1: off to the issuer, with a fresh state, nonce and PKCE verifier kept in this tab.
  function start(next) {
    return discover().then(function (doc) {
      var pending = { state: randomString(), nonce: randomString(), verifier: randomString(), next: next || "" };
      return challengeOf(pending.verifier).then(function (challenge) {
        pending.tokenEndpoint = doc.token_endpoint;
        pending.endSession = doc.end_session_endpoint || "";
        save(PENDING_KEY, pending);
        var query = new URLSearchParams({
          response_type: "code",
          client_id: setting("oidc-client-id"),
          redirect_uri: signInUrl(),
          scope: "openid",
          state: pending.state,
          nonce: pending.nonce,
          code_challenge: challenge,
          code_challenge_method: "S256",
        });
        window.location.assign(doc.authorization_endpoint + "?" + query.toString());
      });
    });
  }

  // Step 2, back on the sign-in page: `?code=…&state=…` (or `?error=…`). Resolves to the page to
  // open next, or null when the address carries no answer from the issuer.
  function complete() {
    var params = new URLSearchParams(window.location.search);
    if (!params.has("code") && !params.has("error")) return Promise.resolve(null);
    var pending = load(PENDING_KEY);
    save(PENDING_KEY, null); // one use, whatever happens
    window.history.replaceState(null, "", signInUrl()); // the code leaves the address bar
    if (!pending || params.get("state") !== pending.state) return Promise.reject(new SignInError("state"));
    if (params.has("error")) return Promise.reject(new SignInError("denied"));
    return tokenRequest(pending.tokenEndpoint, {
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: signInUrl(),
      client_id: setting("oidc-client-id"),
      code_verifier: pending.verifier,
    }).then(function (answer) {
      var idClaims = payloadOf(answer.id_token);
      if (!idClaims || idClaims.nonce !== pending.nonce) throw new SignInError("nonce");
      keep(answer, pending);
      scheduleRefresh();
      return pending.next;
    });
  }

  function refresh() {
    var session = load(SESSION_KEY);
    if (!session || !session.refreshToken) return Promise.resolve(false);
    return tokenRequest(session.tokenEndpoint, {
      grant_type: "refresh_token",
      refresh_token: session.refreshToken,
      client_id: setting("oidc-client-id"),
    }).then(
      function (answer) {
        keep(answer, session);
        scheduleRefresh();
        return true;
      },
      function () {
        return false; // the API's 401 then asks the user to sign in again
      }
    );
  }

  // Silent refresh: a timer for a minute before expiry, renewed after each refresh.
  function scheduleRefresh() {
    if (refreshTimer !== null) window.clearTimeout(refreshTimer);
    refreshTimer = null;
    var session = load(SESSION_KEY);
    if (!enabled() || !session || !session.refreshToken) return;
    var delay = Math.max(0, session.expiresAt - REFRESH_MARGIN_MS - Date.now());
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      refresh();
    }, delay);
  }

  // Forget every token in this tab, then end the issuer's session there; it sends the browser
  // back to the sign-in page.
  function signOut() {
    var session = load(SESSION_KEY) || {};
    [ACCESS_KEY, SESSION_KEY, PENDING_KEY].forEach(function (key) {
      save(key, null);
    });
    if (refreshTimer !== null) window.clearTimeout(refreshTimer);
    var end = setting("oidc-logout-url") || session.endSession;
    if (!enabled() || !end) {
      window.location.assign(signInUrl());
      return;
    }
    var query = new URLSearchParams({
      client_id: setting("oidc-client-id"),
      post_logout_redirect_uri: signInUrl(),
      logout_uri: signInUrl(), // Cognito's name for it
    });
    if (session.idToken) query.set("id_token_hint", session.idToken);
    window.location.assign(end + "?" + query.toString());
  }

  window.amdsyncOidc = {
    enabled: enabled,
    start: start,
    complete: complete,
    refresh: refresh,
    scheduleRefresh: scheduleRefresh,
    signOut: signOut,
    SignInError: SignInError,
  };
})();
