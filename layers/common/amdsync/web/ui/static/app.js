/*
 * amdsync admin UI and widgets. Plain JavaScript, no build step, no inline code (strict CSP).
 *
 * The HTML shells hold no data. This script reads the user's bearer token from sessionStorage
 * (the sign-in page puts it there; a widget may also receive it from the embedding EHR by
 * postMessage or a #token= fragment) and calls the same JSON API as every other client. The API
 * enforces the roles; the UI hides what a role cannot do and explains a 403 in plain words.
 * Data is only ever written with textContent / DOM nodes, never as HTML.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "amdsync.token";
  var RANK = { provider: 1, billing: 2, admin: 3 };
  var body = document.body;
  var page = body.getAttribute("data-page") || "";
  var API = apiBase();

  // ------------------------------------------------------------------ basics

  function apiBase() {
    var path = window.location.pathname;
    var at = path.indexOf("/api/advancedmd/");
    return (at >= 0 ? path.slice(0, at) : "") + "/api/advancedmd";
  }

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = String(value);
        else if (key === "className") node.className = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function show(node, visible) {
    if (node) node.hidden = !visible;
  }

  function say(node, text, tone) {
    if (!node) return;
    node.className = "message" + (tone ? " " + tone : "");
    node.textContent = text;
    node.hidden = !text;
  }

  function busy(node, value) {
    if (node) node.setAttribute("aria-busy", value ? "true" : "false");
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function isoDay(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }

  function addDays(date, days) {
    var copy = new Date(date.getTime());
    copy.setDate(copy.getDate() + days);
    return copy;
  }

  // Instants (UTC from the API) are shown in the practice's time zone, whatever the
  // browser's zone: everyone at the practice reads the same clock.
  var ZONE = body.getAttribute("data-practice-zone") || undefined;

  function when(value) {
    if (!value) return "never";
    var date = new Date(value);
    if (isNaN(date.getTime())) return "unknown";
    return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: ZONE });
  }

  // A wall time as the EHR sent it ("2026-12-08T09:00:00" in the appointment's own zone):
  // formatted as it reads on a clock there, without converting it through the browser's zone.
  function wall(value) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(value || "");
    if (!m) return null;
    return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0)));
  }

  function clock(value) {
    var date = wall(value);
    return date ? date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit", timeZone: "UTC" }) : "--:--";
  }

  function dayName(value) {
    var date = wall(value);
    return date ? date.toLocaleDateString(undefined, { weekday: "long", month: "long", day: "numeric", year: "numeric", timeZone: "UTC" }) : "unknown day";
  }

  function wallTime(value, zone) {
    var date = wall(value);
    if (!date) return "unknown";
    var text = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
    return zone && zone !== ZONE ? text + " (" + zone.replace(/_/g, " ") + " time)" : text;
  }

  function plusDays(day, days) {
    var date = wall(day);
    date.setUTCDate(date.getUTCDate() + days);
    return date.toISOString().slice(0, 10);
  }

  function todayInPractice() {
    var parts = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
    return parts.slice(0, 10);
  }

  // ------------------------------------------------------------------ plain words

  var EHR_STATUS = {
    SCHEDULED: "Scheduled",
    CONFIRMED: "Confirmed",
    CHECKED_IN: "Checked in",
    CHECKED_OUT: "Checked out",
    COMPLETED: "Completed",
    NO_SHOW: "No-show",
    CANCELLED: "Cancelled",
    RESCHEDULED: "Rescheduled",
  };
  var ERROR_WORDS = {
    PATIENT_NOT_SYNCED: "The patient is not in AdvancedMD yet",
    PROVIDER_NOT_MAPPED: "The provider is not matched to AdvancedMD yet (an administrator matches it under Mappings)",
    FACILITY_NOT_MAPPED: "The facility is not matched to AdvancedMD yet (an administrator matches it under Mappings)",
    TYPE_NOT_MAPPED: "The appointment type is not matched to AdvancedMD yet (an administrator matches it under Mappings)",
    REASON_NOT_MAPPED: "The cancel or no-show reason is not matched to AdvancedMD yet (an administrator matches it under Mappings)",
    AMD_UNAVAILABLE: "AdvancedMD did not answer; it is tried again",
    AMD_REJECTED: "AdvancedMD refused the change",
    AMD_OVERLAP: "AdvancedMD already has an appointment at that time",
    AMD_NOT_FOUND: "AdvancedMD no longer has this record",
    AMD_AUTH_FAILED: "AdvancedMD refused our sign-in",
    RATE_LIMITED: "Waiting for AdvancedMD's rate limit",
    UNKNOWN_STATUS: "AdvancedMD sent a status this service does not know",
    ILLEGAL_TRANSITION: "That status change is not allowed from the current status",
    CONFLICT: "Both the EHR and AdvancedMD changed it",
    INVALID_TIME: "That time does not exist in the practice's time zone",
    MASS_CHANGE_BLOCKED: "Stopped: the pull would have cancelled too many appointments",
    SKIPPED_BY_SETTINGS: "Left out by the settings",
    INTERNAL: "An internal error (logged)",
  };
  var OPERATION_WORDS = {
    push: "Send to AdvancedMD",
    sync: "Sync",
    pull: "Pull from AdvancedMD",
    start: "Start",
    create: "Create",
    update: "Update",
    defer: "Wait for the rate limit",
    bootstrap: "First pull",
    link_or_create: "Find or create",
    skip_type: "Skip (type not synced)",
  };
  var ENTITY_WORDS = { appointment: "Appointment", patient: "Patient", charge: "Charge", pull: "Pull", bulk: "Bulk sync", settings: "Settings", conflict: "Conflict" };
  var FIELD_WORDS = { start: "Start time", providerId: "Provider", facilityId: "Facility", appointmentType: "Type", status: "Status", durationMinutes: "Length (minutes)", cancelReason: "Cancel reason" };

  function humanize(code) {
    var text = String(code || "").replace(/_/g, " ").toLowerCase();
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function statusWords(status) {
    return status ? EHR_STATUS[status] || humanize(status) : "unknown";
  }

  function errorWords(code) {
    return code ? ERROR_WORDS[code] || humanize(code) : "";
  }

  function problemText(code, message) {
    var label = errorWords(code);
    if (label && message) return label + " (" + message + ")";
    return label || message || "";
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "unknown";
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      window.setTimeout(resolve, ms);
    });
  }

  // ------------------------------------------------------------------ token and roles

  function getToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY);
    } catch (e) {
      return null;
    }
  }

  function setToken(token) {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage disabled: the token lives for this page only */
    }
  }

  function claims() {
    var token = getToken();
    if (!token) return null;
    var parts = token.split(".");
    if (parts.length !== 3) return null;
    try {
      var text = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
      return JSON.parse(text);
    } catch (e) {
      return null;
    }
  }

  function roles() {
    var c = claims();
    var value = c ? c[body.getAttribute("data-role-claim") || "roles"] : null;
    var list = [];
    if (Array.isArray(value)) list = value;
    else if (typeof value === "string") list = value.replace(/[\[\],]/g, " ").split(/\s+/);
    return list
      .map(function (r) {
        return String(r).trim().toLowerCase();
      })
      .filter(Boolean);
  }

  // The UI's guess from the token, used only to hide what a role cannot do; the API decides.
  function atLeast(role) {
    return roles().some(function (r) {
      return (RANK[r] || 0) >= RANK[role];
    });
  }

  function roleName() {
    var list = roles();
    var best = "";
    list.forEach(function (r) {
      if ((RANK[r] || 0) > (RANK[best] || 0)) best = r;
    });
    return best || list[0] || "";
  }

  // ------------------------------------------------------------------ the API

  function ApiError(status, problem, retryAfter) {
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = retryAfter;
  }

  function api(method, path, payload, ifMatch) {
    var token = getToken();
    if (!token) return Promise.reject(new ApiError(401, null));
    // no-store: status reads carry Cache-Control for API clients, but a page polls for changes.
    var init = { method: method, cache: "no-store", headers: { Authorization: "Bearer " + token, Accept: "application/json" } };
    // If-Match: a write based on what this page read is refused (412) if someone changed it since.
    if (ifMatch) init.headers["If-Match"] = ifMatch;
    if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    return fetch(API + path, init).then(
      function (response) {
        return response.text().then(function (text) {
          var data = null;
          try {
            data = text ? JSON.parse(text) : null;
          } catch (e) {
            data = null;
          }
          if (!response.ok) throw new ApiError(response.status, data, response.headers.get("Retry-After"));
          return data;
        });
      },
      function () {
        throw new ApiError(0, null);
      }
    );
  }

  function plain(error) {
    if (!(error instanceof ApiError)) return "Something unexpected happened in this page. Reload it and try again.";
    var problem = error.problem || {};
    var detail = problem.detail || problem.message || "";
    switch (error.status) {
      case 0:
        return "The sync service can't be reached. Check your network connection and try again.";
      case 401:
        return "You're not signed in, or your sign-in has expired. Sign in again to continue.";
      case 403:
        if (problem.code === "WRONG_PRACTICE") return "Your sign-in belongs to a different practice.";
        return "Your role doesn't allow this. Ask a practice administrator if you need access.";
      case 404:
        return detail || "That record doesn't exist (yet).";
      case 409:
        return detail || "Someone else changed this meanwhile. Reload and try again.";
      case 412:
        return "Someone else changed this since you opened the page. Reload the page to see their change, then try again.";
      case 400:
      case 422:
        return detail ? "Please check the form: " + detail : "Please check the form and try again.";
      case 429:
      case 503:
        return (
          (detail || "AdvancedMD is busy right now.") +
          (error.retryAfter ? " Try again in about " + duration(Number(error.retryAfter)) + "." : "")
        );
      case 502:
        return "AdvancedMD refused the request: " + (detail || "no reason given") + ".";
      default:
        return "Something went wrong on our side. It has been logged; please try again later.";
    }
  }

  // A read into `box` failed: the box now holds only the explanation (returned, to add to).
  function showFailure(box, error, tag, className) {
    clear(box);
    var note = el(tag, className ? { className: className } : null);
    explain(note, error);
    box.appendChild(note);
    return note;
  }

  // A message with a sign-in link when the problem is the sign-in itself.
  function explain(node, error) {
    if (!node) return;
    say(node, plain(error), error && error.status === 401 ? "warn" : "bad");
    if (error && error.status === 401 && !body.classList.contains("widget")) {
      node.appendChild(document.createTextNode(" "));
      node.appendChild(el("a", { href: "sign-in", text: "Go to sign-in" }));
    }
  }

  // ------------------------------------------------------------------ status badges

  var ICONS = {
    synced: "✓",
    success: "✓",
    completed: "✓",
    pending: "◌",
    running: "◌",
    deferred: "◌",
    skipped: "–",
    error: "⚠",
    cancelled: "✕",
    conflict: "⇄",
  };
  var LABELS = {
    synced: "Synced",
    pending: "Pending",
    error: "Error",
    conflict: "Conflict",
    success: "Success",
    deferred: "Deferred",
    skipped: "Skipped",
    running: "Running",
    completed: "Completed",
    cancelled: "Cancelled",
  };

  function statusBadge(status, extra, text) {
    var key = String(status || "unknown").toLowerCase();
    var label = text || LABELS[key] || (status ? humanize(status) : "Unknown");
    var attrs = { className: "status status-" + (LABELS[key] ? key : "unknown") };
    if (extra) Object.keys(extra).forEach(function (k) { attrs[k] = extra[k]; });
    return el("span", attrs, [el("span", { "aria-hidden": "true", text: ICONS[key] || "•" }), label]);
  }

  // An appointment's badge: what AdvancedMD holds, in words. A cancelled appointment that
  // reached AMD is "Cancelled in AdvancedMD", not "Synced".
  function syncBadge(record, extra) {
    var status = record.amdSyncStatus;
    if (status === "synced" && record.status === "CANCELLED") return statusBadge("cancelled", extra, "Cancelled in AdvancedMD");
    if (status === "synced" && record.status === "NO_SHOW") return statusBadge("synced", extra, "No-show in AdvancedMD");
    return statusBadge(status, extra);
  }

  function badgeTip(record) {
    if (record.amdSyncError || record.amdSyncErrorCode) return problemText(record.amdSyncErrorCode, record.amdSyncError);
    if (record.amdSyncStatus === "synced") return "In AdvancedMD as visit " + record.advancedMDVisitId;
    if (record.amdSyncStatus === "pending") return "Waiting to sync";
    return "";
  }

  // ------------------------------------------------------------------ chrome

  // Who is signed in, the pages their role may use and where they land: the server decides
  // (GET /me); the page only draws it. Null when nobody is signed in or the answer failed.
  var session = null;

  function me() {
    if (!session) session = getToken() ? api("GET", "/me").catch(function () { return null; }) : Promise.resolve(null);
    return session;
  }

  function drawNav(info) {
    var list = $("nav-list");
    if (!list || !info) return;
    clear(list);
    info.nav.forEach(function (link) {
      var a = el("a", { href: link.page, text: link.label, "aria-current": link.page === page ? "page" : null });
      list.appendChild(el("li", null, [a]));
    });
    if (info.landingPage && $("brand")) $("brand").setAttribute("href", info.landingPage);
  }

  function pageLabel(info, slug) {
    var found = (info && info.nav || []).filter(function (link) { return link.page === slug; })[0];
    return found ? found.label : slug;
  }

  function initChrome() {
    var who = $("whoami");
    var signOut = $("sign-out");
    var signIn = $("sign-in-link");
    if (!who) return;
    var c = claims();
    if (c) {
      who.textContent = "Signed in as " + (c.sub || "unknown") + (roleName() ? " (" + roleName() + ")" : "");
      show(signOut, true);
      show(signIn, false);
      me().then(drawNav);
    }
    if (signOut) {
      signOut.addEventListener("click", function () {
        setToken(null);
        window.amdsyncOidc.signOut(); // forgets the session here, ends it at the issuer
      });
    }
    window.amdsyncOidc.scheduleRefresh();
  }

  // Pages for admins tell other roles up front; the API's answer stays the authority.
  function guard(minimum, what) {
    if (!getToken()) {
      explain($("page-message"), new ApiError(401, null));
      return false;
    }
    if (!atLeast(minimum)) {
      var note = $("page-message");
      say(note, "This page is for " + what + ". You're signed in as " + (roleName() || "a user without a role") + ".", "warn");
      me().then(function (info) {
        if (!info || !info.landingPage) return;
        note.appendChild(document.createTextNode(" Your page: "));
        note.appendChild(el("a", { href: info.landingPage, text: pageLabel(info, info.landingPage) }));
      });
    }
    return true;
  }

  // ------------------------------------------------------------------ sign-in

  var SIGN_IN_PROBLEMS = {
    discovery: "The sign-in service can't be reached. Try again in a moment.",
    issuer: "The sign-in service answered for a different issuer. Ask whoever deployed amdsync.",
    state: "That sign-in answer doesn't belong to this tab. Start again.",
    nonce: "That sign-in answer doesn't belong to this tab. Start again.",
    denied: "Sign-in was cancelled or refused.",
    token: "The sign-in service didn't hand out a token. Start again.",
  };

  // Where this role lands (GET /me decides); the sign-in page again if the API said no.
  function landingPage() {
    session = null;
    return me().then(function (info) {
      return (info && info.landingPage) || "sign-in";
    });
  }

  function openLanding() {
    return landingPage().then(function (landing) {
      if (landing === "sign-in") {
        say($("page-message"), "Signed in, but this sign-in has no role for the console. Ask a practice administrator.", "bad");
        return;
      }
      say($("page-message"), "Signed in. Opening your page…", "ok");
      window.location.href = landing;
    });
  }

  function signInFailed(error) {
    var code = error && error.code;
    say($("page-message"), SIGN_IN_PROBLEMS[code] || SIGN_IN_PROBLEMS.token, "bad");
  }

  function initSignIn() {
    var oidc = window.amdsyncOidc;
    oidc.complete().then(function (next) {
      if (next === null) return;
      return openLanding();
    }, signInFailed);
    var button = $("issuer-sign-in");
    if (button) {
      button.addEventListener("click", function () {
        busy(button, true);
        oidc.start().catch(function (error) {
          busy(button, false);
          signInFailed(error);
        });
      });
    }
    var form = $("sign-in-form");
    var input = $("token");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = input.value.trim().replace(/^Bearer\s+/i, "");
      if (token.split(".").length !== 3) {
        say($("page-message"), "That doesn't look like an access token. It has three parts separated by dots.", "bad");
        input.focus();
        return;
      }
      setToken(token);
      openLanding();
    });
  }

  // ------------------------------------------------------------------ dashboard

  function fact(list, label, value) {
    list.appendChild(el("dt", { text: label }));
    list.appendChild(el("dd", { text: value }));
  }

  function statusCard(title, card) {
    var list = el("dl");
    fact(list, "Synced", card.synced);
    fact(list, "Pending", card.pending);
    fact(list, "Errors", card.error);
    fact(list, "Conflicts", card.conflict);
    fact(list, "Last synced", when(card.lastSynced));
    var bad = card.error > 0 || card.conflict > 0;
    return el("article", { className: "card " + (bad ? "alert" : "ok-card"), "aria-label": title }, [
      el("h3", { text: title }),
      el("p", { className: "big" }, [String(card.total), el("span", { className: "visually-hidden", text: " total" })]),
      el("p", { className: "hint", text: bad ? "⚠ Needs attention" : "✓ No errors" }),
      list,
    ]);
  }

  function renderDashboard(data) {
    var cards = clear($("cards"));
    cards.appendChild(statusCard("Patients", data.patients));
    cards.appendChild(statusCard("Appointments", data.appointments));

    var charges = el("dl");
    fact(charges, "With charges", data.charges.withCharges);
    fact(charges, "Without charges", data.charges.withoutCharges);
    cards.appendChild(
      el("article", { className: "card", "aria-label": "Charges" }, [
        el("h3", { text: "Charges" }),
        el("p", { className: "big" }, [String(data.charges.seen), el("span", { className: "visually-hidden", text: " seen" })]),
        el("p", { className: "hint", text: "Appointments seen (checked out or completed)" }),
        charges,
      ])
    );

    var queue = el("dl");
    fact(queue, "Estimated wait", duration(data.queue.estimatedWaitSeconds));
    fact(queue, "Open conflicts", data.openConflicts);
    cards.appendChild(
      el("article", { className: "card", "aria-label": "Queue" }, [
        el("h3", { text: "Queue" }),
        el("p", { className: "big" }, [String(data.queue.depth), el("span", { className: "visually-hidden", text: " waiting" })]),
        el("p", { className: "hint", text: "Sync jobs waiting" }),
        queue,
      ])
    );

    var pull = el("dl");
    fact(pull, "Last pull", when(data.lastPull));
    fact(pull, "Pull lag", data.pullLagSeconds === null || data.pullLagSeconds === undefined ? "no pull yet" : duration(data.pullLagSeconds));
    cards.appendChild(
      el("article", { className: "card", "aria-label": "Pull from AdvancedMD" }, [el("h3", { text: "Pull from AdvancedMD" }), pull])
    );

    var rows = (data.rateLimits || []).map(function (b) {
      var share = b.limit ? Math.round((100 * b.used) / b.limit) : 0;
      return el("tr", null, [
        el("th", { scope: "row", text: budgetName(b.budget) }),
        el("td", { className: "num", text: b.used + " / " + b.limit }),
        el("td", { text: (share >= 90 ? "⚠ " : "") + share + "%" }),
        el("td", { text: b.peak ? "Peak" : "Off-peak" }),
      ]);
    });
    cards.appendChild(
      el("article", { className: "card wide", "aria-label": "Rate limits" }, [
        el("h3", { text: "AdvancedMD rate limits (this minute)" }),
        el("table", null, [
          el("thead", null, [el("tr", null, [el("th", { scope: "col", text: "Budget" }), el("th", { scope: "col", text: "Used" }), el("th", { scope: "col", text: "Share" }), el("th", { scope: "col", text: "Hours" })])]),
          el("tbody", null, rows),
        ]),
      ])
    );
    cards.appendChild(alarmsCard(data.alarms));
  }

  // The stack's CloudWatch alarms and their state now (null: CloudWatch could not be read).
  function alarmsCard(alarms) {
    var body;
    if (alarms === null || alarms === undefined) {
      body = el("p", { className: "hint", text: "The alarms' states could not be read just now." });
    } else if (!alarms.length) {
      body = el("p", { className: "hint", text: "No alarms are set up for this service." });
    } else {
      body = el("ul", { className: "alarm-list" }, alarms.map(function (a) {
        var bad = a.state === "ALARM";
        return el("li", { className: bad ? "alert" : "" }, [
          el("strong", { text: (bad ? "⚠ " : a.state === "OK" ? "✓ " : "") + a.stateText }),
          " — " + (a.description || a.name) + (a.since ? " (since " + when(a.since) + ")" : ""),
        ]);
      }));
    }
    var alarming = (alarms || []).filter(function (a) { return a.state === "ALARM"; }).length;
    return el("article", { className: "card wide " + (alarming ? "alert" : "ok-card"), "aria-label": "Alarms" }, [
      el("h3", { text: "Alarms" }),
      el("p", { className: "hint", text: alarming ? alarming + " in alarm" : "None in alarm" }),
      body,
    ]);
  }

  function budgetName(code) {
    return { T1: "Tier 1", T2: "Tier 2", T3: "Tier 3", FEED: "Change feed", LOGIN: "Logins" }[code] || code;
  }

  function loadDashboard() {
    var cards = $("cards");
    busy(cards, true);
    return api("GET", "/sync/dashboard")
      .then(renderDashboard, function (error) {
        var note = showFailure(cards, error, "div", "message");
        if (error.status === 403) note.textContent = "The sync figures are for administrators. " + plain(error);
      })
      .then(function () {
        busy(cards, false);
      });
  }

  var logState = { cursor: null, history: [] };

  function logQuery() {
    var params = new URLSearchParams();
    ["f-entity-type", "f-outcome", "f-from", "f-to", "f-entity-id"].forEach(function (id) {
      var input = $(id);
      if (input.value.trim()) params.set(input.name, input.value.trim());
    });
    params.set("limit", "25");
    if (logState.cursor) params.set("cursor", logState.cursor);
    return params.toString();
  }

  function loadLogs() {
    var box = $("logs");
    busy(box, true);
    return api("GET", "/sync/logs?" + logQuery())
      .then(
        function (data) {
          clear(box);
          var items = data.items || [];
          if (!items.length) {
            box.appendChild(el("p", { className: "empty", text: "No sync log entries match these filters." }));
          } else {
            var head = ["Time", "Entity", "Id", "Operation", "Direction", "Outcome", "Duration", "AMD calls", "Details", "By"];
            box.appendChild(
              el("table", null, [
                el("caption", { className: "visually-hidden", text: "Sync log entries, newest first" }),
                el("thead", null, [el("tr", null, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
                el("tbody", null, items.map(logRow)),
              ])
            );
          }
          $("logs-next").disabled = !data.nextCursor;
          $("logs-next").setAttribute("data-cursor", data.nextCursor || "");
          $("logs-first").disabled = !logState.cursor;
        },
        function (error) {
          showFailure(box, error, "div");
        }
      )
      .then(function () {
        busy(box, false);
      });
  }

  function logRow(entry) {
    var direction = { to_amd: "EHR → AMD", from_amd: "AMD → EHR", none: "—" }[entry.direction] || entry.direction;
    var details = problemText(entry.errorCode, entry.message);
    return el("tr", null, [
      el("td", { text: when(entry.at) }),
      el("td", { text: ENTITY_WORDS[entry.entityType] || humanize(entry.entityType) }),
      el("td", { text: entry.entityId }),
      el("td", { text: OPERATION_WORDS[entry.operation] || humanize(entry.operation) }),
      el("td", { text: direction }),
      el("td", null, [statusBadge(entry.outcome)]),
      el("td", { className: "num", text: entry.durationMs + " ms" }),
      el("td", { className: "num", text: entry.amdCalls }),
      el("td", { text: details || "—" }),
      el("td", { text: entry.actor }),
    ]);
  }

  function initDashboard() {
    if (!guard("admin", "administrators (billing staff can use the manual sync buttons)")) {
      clear($("cards"));
      clear($("logs"));
      return;
    }
    var today = new Date();
    $("f-from").value = isoDay(addDays(today, -6));
    $("f-to").value = isoDay(today);
    $("bulk-from").value = isoDay(today);
    $("bulk-to").value = isoDay(addDays(today, 6));

    $("refresh-dashboard").addEventListener("click", loadDashboard);
    $("log-filters").addEventListener("submit", function (event) {
      event.preventDefault();
      logState.cursor = null;
      loadLogs();
    });
    $("logs-next").addEventListener("click", function () {
      logState.cursor = $("logs-next").getAttribute("data-cursor") || null;
      loadLogs();
    });
    $("logs-first").addEventListener("click", function () {
      logState.cursor = null;
      loadLogs();
    });

    if (atLeast("billing")) initManualSync();
    if (atLeast("admin")) {
      loadDashboard();
      loadLogs();
    } else {
      clear($("cards")).appendChild(el("p", { className: "hint", text: "The sync figures and logs are for administrators." }));
      clear($("logs")).appendChild(el("p", { className: "hint", text: "Sync logs are for administrators." }));
    }
  }

  // "Show more" paging over a list answer ({items, nextCursor}), the one pager of the pages
  // with a Show-more button. list.items holds every page so far; list.load(true) starts over
  // (a refresh, new filters) and wins over a load still in flight, whose answer is dropped.
  // fetch(cursor) asks for a page (cursor null: the first); render() draws list.items.
  function pager(box, more, fetch, render) {
    var list = { items: [], cursor: null };
    var generation = 0;
    list.load = function (reset) {
      if (reset) {
        list.cursor = null;
        list.items = [];
      }
      busy(box, true);
      var mine = ++generation;
      return fetch(list.cursor).then(
        function (data) {
          if (mine !== generation) return;
          list.items = list.items.concat(data.items);
          list.cursor = data.nextCursor;
          show(more, Boolean(list.cursor));
          render();
          busy(box, false);
        },
        function (error) {
          busy(box, false);
          clear(box);
          explain($("page-message"), error);
        }
      );
    };
    more.addEventListener("click", function () {
      list.load(false);
    });
    return list;
  }

  function withButton(button, work) {
    button.disabled = true;
    return Promise.resolve()
      .then(work)
      .then(
        function () {
          button.disabled = false;
        },
        function () {
          button.disabled = false;
        }
      );
  }

  function initManualSync() {
    show($("manual-sync"), true);
    var result = $("manual-result");
    $("sync-all-patients").addEventListener("click", function (event) {
      withButton(event.currentTarget, function () {
        say(result, "Queuing patients…");
        return api("POST", "/patients/sync-all", { onlyUnsynced: true }).then(
          function (data) {
            var text = data.queued + " patient" + (data.queued === 1 ? "" : "s") + " queued for sync";
            text += data.skipped ? "; " + data.skipped + " already synced." : ".";
            if (data.remaining) text += " " + data.remaining + " more remain: press again when these are done.";
            say(result, text, "ok");
            refreshSoon();
          },
          function (error) {
            explain(result, error);
          }
        );
      });
    });
    $("sync-today").addEventListener("click", function (event) {
      var today = todayInPractice();
      withButton(event.currentTarget, function () {
        return startBulk({ from: today, to: today, providerId: null });
      });
    });
    $("pull-updates").addEventListener("click", function (event) {
      withButton(event.currentTarget, function () {
        say(result, "Pulling changes from AdvancedMD…");
        // 202 {pullId}: the pull runs in the background; its GET shows the summary when done.
        return api("POST", "/appointments/pull-updates").then(
          function (started) {
            return waitForPull(started.pullId).then(function (pull) {
              if (pull.state !== "done") {
                say(result, "The pull failed: " + (errorWords(pull.errorCode) || "unknown error") + ". See the sync logs.", "bad");
                return;
              }
              var s = pull.summary;
              if (s.status === "blocked") {
                say(result, "The pull was stopped by the mass-change guard; see the runbook.", "bad");
                return;
              }
              say(
                result,
                "Pull finished: " + s.updated + " updated, " + s.created + " created, " + s.cancelled + " cancelled, " +
                  s.conflicts + " conflicts, " + s.charges + " with charges, " + s.unlinked + " not linked to the EHR.",
                "ok"
              );
              refreshSoon();
            });
          },
          function (error) {
            explain(result, error);
          }
        );
      });
    });
    $("bulk-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var from = $("bulk-from").value;
      var to = $("bulk-to").value;
      if (!from || !to) {
        say(result, "Choose both a start and an end date.", "bad");
        return;
      }
      if (to < from) {
        say(result, "The end date must not be before the start date.", "bad");
        return;
      }
      var button = event.currentTarget.querySelector("button[type=submit]");
      withButton(button, function () {
        return startBulk({ from: from, to: to, providerId: $("bulk-provider").value.trim() || null });
      });
    });
    $("bulk-cancel").addEventListener("click", function () {
      if (!bulk.jobId) return;
      $("bulk-cancel").disabled = true;
      api("POST", "/appointments/bulk-sync/" + encodeURIComponent(bulk.jobId) + "/cancel").then(renderBulk, function (error) {
        explain(result, error);
        $("bulk-cancel").disabled = false;
      });
    });
  }

  function refreshSoon() {
    window.setTimeout(function () {
      if (page === "sync-status") loadSyncStatus();
      else if (atLeast("admin")) {
        loadDashboard();
        loadLogs();
      }
    }, 1500);
  }

  // Poll a pull's GET every second until it is done or failed; resolves with the pull.
  function waitForPull(pullId) {
    return new Promise(function (resolve, reject) {
      function look() {
        api("GET", "/appointments/pull-updates/" + encodeURIComponent(pullId)).then(
          function (pull) {
            if (pull.state === "done" || pull.state === "failed") resolve(pull);
            else window.setTimeout(look, 1000);
          },
          function (error) {
            if (error.status === 0 || error.status >= 500) window.setTimeout(look, 2000);
            else reject(error);
          }
        );
      }
      window.setTimeout(look, 500);
    });
  }

  var bulk = { jobId: null, timer: null };

  function startBulk(request) {
    var result = $("manual-result");
    say(result, "Starting the bulk sync…");
    return api("POST", "/appointments/bulk-sync", request).then(
      function (job) {
        bulk.jobId = job.jobId;
        // 202 in state "planning": the appointments are found in the background (total later).
        say(result, "Bulk sync started " + span(request) + "; finding the appointments…", "ok");
        show($("bulk-progress"), true);
        $("bulk-cancel").disabled = false;
        renderBulk(job);
        pollBulk();
      },
      function (error) {
        explain(result, error);
      }
    );
  }

  function span(request) {
    return request.from === request.to ? "on " + dayName(request.from) : "from " + dayName(request.from) + " to " + dayName(request.to);
  }

  function renderBulk(job) {
    var percent = Math.max(0, Math.min(100, job.percent || 0));
    var bar = $("bulk-bar");
    bar.style.width = percent + "%";
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("aria-valuetext", percent + "% done");
    var text;
    if (job.state === "planning") {
      text = "Finding appointments… " + job.planned + " found so far";
      if (job.done) text += ", " + job.done + " synced";
    } else {
      text = percent + "% — " + job.done + " of " + job.total + " synced";
    }
    if (job.failed) text += ", " + job.failed + " failed (see the sync logs)";
    if (job.state === "running") text += ". About " + duration(job.estimatedWaitSeconds) + " left.";
    else if (job.state === "planning") text += ".";
    else if (job.state === "done") text += job.total ? ". Finished." : ". No registered appointments in the range; nothing to sync.";
    else if (job.state === "cancelled") text += ". Cancelled; queued work is skipped.";
    $("bulk-text").textContent = text;
    $("bulk-progress").setAttribute("data-state", job.state);
    $("bulk-cancel").hidden = job.state !== "running" && job.state !== "planning";
  }

  function pollBulk() {
    if (bulk.timer) window.clearTimeout(bulk.timer);
    bulk.timer = window.setTimeout(function () {
      api("GET", "/appointments/bulk-sync/" + encodeURIComponent(bulk.jobId)).then(
        function (job) {
          renderBulk(job);
          if (job.state === "running" || job.state === "planning") pollBulk();
          else refreshSoon();
        },
        function (error) {
          explain($("manual-result"), error);
          if (error.status === 0 || error.status >= 500) pollBulk();
        }
      );
    }, 1000);
  }

  // ------------------------------------------------------------------ conflicts

  function show_value(value, name) {
    if (value === null || value === undefined || value === "") return "(empty)";
    if (typeof value === "object") return JSON.stringify(value);
    if (name === "status") return statusWords(String(value));
    if (wall(String(value)) && /T\d{2}:\d{2}/.test(String(value))) return wallTime(String(value));
    return String(value);
  }

  function loadConflicts() {
    var box = $("conflicts");
    busy(box, true);
    var state = $("conflict-state").value;
    return api("GET", "/conflicts?state=" + encodeURIComponent(state))
      .then(
        function (data) {
          clear(box);
          var items = data.items || [];
          if (!items.length) {
            box.appendChild(el("p", { className: "empty", text: state === "open" ? "✓ No open conflicts. Nothing needs a decision." : "No conflicts to show." }));
            return;
          }
          items.forEach(function (c) {
            box.appendChild(conflictView(c));
          });
        },
        function (error) {
          showFailure(box, error, "div");
        }
      )
      .then(function () {
        busy(box, false);
      });
  }

  function conflictView(c) {
    var headingId = "conflict-" + c.conflictId;
    var rows = Object.keys(c.fields || {}).map(function (name) {
      var f = c.fields[name];
      return el("tr", null, [
        el("th", { scope: "row", text: FIELD_WORDS[name] || humanize(name) }),
        el("td", { className: "side-ehr", text: show_value(f.ehr, name) }),
        el("td", { className: "side-amd", text: show_value(f.amd, name) }),
        el("td", { text: show_value(f.base, name) }),
      ]);
    });
    var section = el("section", { className: "conflict", "aria-labelledby": headingId, "data-conflict-id": c.conflictId }, [
      el("h2", { id: headingId }, [
        "Appointment " + c.appointmentId + " ",
        statusBadge(c.state === "open" ? "conflict" : "synced"),
      ]),
      el("p", { className: "hint", text: "AdvancedMD visit " + (c.advancedMDVisitId || "—") + " · detected " + when(c.detectedAt) }),
      el("div", { className: "table-wrap" }, [
        el("table", null, [
          el("caption", { text: "Values on each side" }),
          el("thead", null, [
            el("tr", null, [
              el("th", { scope: "col", text: "Field" }),
              el("th", { scope: "col", text: "In the EHR" }),
              el("th", { scope: "col", text: "In AdvancedMD" }),
              el("th", { scope: "col", text: "Last agreed" }),
            ]),
          ]),
          el("tbody", null, rows),
        ]),
      ]),
    ]);
    var result = el("div", { className: "message", role: "status", "aria-live": "polite", hidden: true });
    if (c.state === "open") {
      var keepEhr = el("button", { type: "button", className: "primary", text: "Keep the EHR's values" });
      var keepAmd = el("button", { type: "button", className: "secondary", text: "Keep AdvancedMD's values" });
      [
        [keepEhr, "ehr"],
        [keepAmd, "amd"],
      ].forEach(function (pair) {
        pair[0].addEventListener("click", function () {
          keepEhr.disabled = keepAmd.disabled = true;
          api("POST", "/conflicts/" + encodeURIComponent(c.conflictId) + "/resolve", { keep: pair[1] }).then(
            function () {
              say(result, "Resolved: kept " + (pair[1] === "ehr" ? "the EHR's" : "AdvancedMD's") + " values. The appointment will sync again.", "ok");
              window.setTimeout(loadConflicts, 1500);
            },
            function (error) {
              explain(result, error);
              keepEhr.disabled = keepAmd.disabled = false;
            }
          );
        });
      });
      section.appendChild(el("div", { className: "actions" }, [keepEhr, keepAmd]));
    } else {
      section.appendChild(el("p", { text: "Resolved by " + (c.resolvedBy || "policy") + " (" + (c.resolution || "—") + ") " + when(c.resolvedAt) + "." }));
    }
    section.appendChild(result);
    return section;
  }

  function initConflicts() {
    if (!guard("admin", "administrators")) {
      clear($("conflicts"));
      return;
    }
    $("conflict-state").addEventListener("change", loadConflicts);
    loadConflicts();
  }

  // ------------------------------------------------------------------ mappings

  var mappingKind = "providers";

  function optionLabel(o) {
    return [o.code, o.name].filter(Boolean).join(" — ") + " (AMD " + o.amdId + ")";
  }

  function loadMappings() {
    var box = $("mappings");
    busy(box, true);
    return api("GET", "/mappings/" + mappingKind)
      .then(
        function (data) {
          clear(box);
          var byEhr = {};
          (data.mappings || []).forEach(function (m) {
            byEhr[m.ehrId] = { ehrId: m.ehrId, mapping: m, suggestion: null };
          });
          (data.suggestions || []).forEach(function (s) {
            var row = byEhr[s.ehrId] || (byEhr[s.ehrId] = { ehrId: s.ehrId, mapping: null, suggestion: null });
            row.suggestion = s.suggestion;
          });
          var ids = Object.keys(byEhr).sort();
          if (!ids.length) {
            box.appendChild(el("p", { className: "empty", text: "No EHR ids of this kind are in use yet. They appear here once the EHR registers appointments that use them." }));
            return;
          }
          var head = ["EHR id", "Status", "AdvancedMD"];
          if (mappingKind === "providers") head.push("Scheduler column");
          head.push("Action");
          box.appendChild(
            el("div", { className: "table-wrap" }, [
              el("table", null, [
                el("caption", { className: "visually-hidden", text: "Mappings for " + mappingKind }),
                el("thead", null, [el("tr", null, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
                el("tbody", null, ids.map(function (id) { return mappingRow(byEhr[id], data.amdOptions || []); })),
              ]),
            ])
          );
        },
        function (error) {
          showFailure(box, error, "div");
        }
      )
      .then(function () {
        busy(box, false);
      });
  }

  var rowSeq = 0;

  function mappingRow(row, options) {
    rowSeq += 1;
    var current = row.mapping;
    var suggested = row.suggestion;
    var selectedId = current ? current.amdId : suggested ? suggested.amdId : "";
    var selectId = "map-" + rowSeq;
    var select = el("select", { id: selectId, "aria-label": "AdvancedMD match for " + row.ehrId });
    select.appendChild(el("option", { value: "", text: "Choose…" }));
    options.forEach(function (o) {
      var opt = el("option", { value: o.amdId, text: optionLabel(o) + (suggested && suggested.amdId === o.amdId ? " — suggested" : "") });
      if (o.amdId === selectedId) opt.selected = true;
      select.appendChild(opt);
    });
    var column = null;
    function fillColumns() {
      if (!column) return;
      var chosen = options.filter(function (o) { return o.amdId === select.value; })[0];
      clear(column);
      ((chosen && chosen.columnIds) || []).forEach(function (id) {
        var opt = el("option", { value: id, text: "Column " + id });
        if (current && current.amdColumnId === id) opt.selected = true;
        column.appendChild(opt);
      });
      if (!column.options.length) column.appendChild(el("option", { value: "", text: "No column" }));
    }
    if (mappingKind === "providers") {
      column = el("select", { id: selectId + "-col", "aria-label": "Scheduler column for " + row.ehrId });
      select.addEventListener("change", fillColumns);
      fillColumns();
    }
    var state = current && current.confirmed ? "synced" : "pending";
    var stateText = current && current.confirmed ? "Confirmed" : suggested ? "Suggested" : "Not mapped";
    var statusCell = el("td", null, [
      el("span", { className: "status status-" + (current && current.confirmed ? "synced" : suggested ? "pending" : "error") }, [
        el("span", { "aria-hidden": "true", text: state === "synced" ? "✓" : suggested ? "?" : "⚠" }),
        stateText,
      ]),
    ]);
    var result = el("span", { className: "visually-hidden", role: "status" });
    var button = el("button", { type: "button", className: "primary", text: current && current.confirmed ? "Save change" : "Confirm" });
    button.setAttribute("aria-label", (current && current.confirmed ? "Save change for " : "Confirm mapping for ") + row.ehrId);
    button.addEventListener("click", function () {
      if (!select.value) {
        say($("page-message"), "Choose an AdvancedMD match for " + row.ehrId + " first.", "bad");
        select.focus();
        return;
      }
      var payload = { amdId: select.value, confirmed: true };
      if (column) payload.amdColumnId = column.value || null;
      button.disabled = true;
      api("PUT", "/mappings/" + mappingKind + "/" + encodeURIComponent(row.ehrId), payload).then(
        function () {
          say($("page-message"), "Saved: " + row.ehrId + " now maps to AdvancedMD " + payload.amdId + ".", "ok");
          result.textContent = "Saved";
          loadMappings();
        },
        function (error) {
          explain($("page-message"), error);
          button.disabled = false;
        }
      );
    });
    var cells = [el("th", { scope: "row", text: row.ehrId }), statusCell, el("td", null, [select])];
    if (column) cells.push(el("td", null, [column]));
    cells.push(el("td", null, [button, result]));
    return el("tr", { "data-ehr-id": row.ehrId }, cells);
  }

  function initMappings() {
    if (!guard("admin", "administrators")) {
      clear($("mappings"));
      return;
    }
    var tabs = Array.prototype.slice.call(document.querySelectorAll(".tab"));
    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () {
        tabs.forEach(function (t) {
          t.setAttribute("aria-pressed", t === tab ? "true" : "false");
        });
        mappingKind = tab.getAttribute("data-kind");
        loadMappings();
      });
    });
    loadMappings();
  }

  // ------------------------------------------------------------------ settings

  var settingsState = { settings: null };

  function initSettings() {
    if (!guard("admin", "administrators")) {
      show($("settings-loading"), false);
      return;
    }
    var form = $("settings-form");
    var frequency = $("s-frequency");
    function syncHourField() {
      show($("s-hour-field"), frequency.value === "daily");
    }
    frequency.addEventListener("change", syncHourField);
    api("GET", "/settings").then(
      function (data) {
        settingsState.settings = data.settings;
        settingsState.version = data.version;
        $("s-auto").checked = !!data.settings.autoSyncAppointments;
        frequency.value = data.settings.syncFrequency;
        $("s-hour").value = data.settings.dailyHour;
        $("s-policy").value = data.settings.conflictPolicy;
        $("s-guard").value = String(Math.round(data.settings.massChangeGuardRatio * 1000) / 10);
        syncHourField();
        renderConnection(data.connection || {});
        show(form, true);
        show($("connection"), true);
        show($("settings-loading"), false);
      },
      function (error) {
        show($("settings-loading"), false);
        explain($("page-message"), error);
      }
    );
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var result = $("settings-result");
      var hour = Number($("s-hour").value);
      if (!(hour >= 0 && hour <= 23 && Math.floor(hour) === hour)) {
        say(result, "The daily pull hour must be a whole number from 0 to 23.", "bad");
        $("s-hour").focus();
        return;
      }
      var guard = Number($("s-guard").value);
      if (!(guard >= 0.1 && guard <= 100)) {
        say(result, "The mass-change guard is a share from 0.1 to 100 percent.", "bad");
        $("s-guard").focus();
        return;
      }
      var next = Object.assign({}, settingsState.settings, {
        autoSyncAppointments: $("s-auto").checked,
        syncFrequency: frequency.value,
        dailyHour: hour,
        conflictPolicy: $("s-policy").value,
        massChangeGuardRatio: Math.round(guard * 10) / 1000,
      });
      var button = form.querySelector("button[type=submit]");
      withButton(button, function () {
        say(result, "Saving…");
        return api("PUT", "/settings", next, '"settings-v' + settingsState.version + '"').then(
          function (saved) {
            settingsState.settings = saved.settings;
            settingsState.version = saved.version;
            say(result, "Settings saved (version " + saved.version + "). The change is recorded in the audit trail with your name.", "ok");
          },
          function (error) {
            explain(result, error);
          }
        );
      });
    });
    $("test-connection").addEventListener("click", function (event) {
      var result = $("connection-result");
      withButton(event.currentTarget, function () {
        say(result, "Checking the connection to AdvancedMD…");
        return api("POST", "/settings/test-connection").then(
          function (report) {
            say(result, (report.ok ? "Connection works. " : "Connection failed. ") + report.message, report.ok ? "ok" : "bad");
          },
          function (error) {
            say(result, "Connection failed. " + plain(error), "bad");
          }
        );
      });
    });
  }

  function renderConnection(connection) {
    var list = clear($("connection-facts"));
    fact(list, "Office key", connection.officeKey || "—");
    fact(list, "Username", connection.username || "—");
    fact(list, "App name", connection.appName || "—");
    fact(list, "Login host", connection.loginHost || "—");
    fact(list, "Password", "•••••••• (stored in Secrets Manager)");
  }

  // ------------------------------------------------------------------ widgets

  function allowedOrigin(origin) {
    if (origin === window.location.origin) return true;
    var list = (body.getAttribute("data-embedders") || "").split(/\s+/).filter(Boolean);
    return list.indexOf(origin) >= 0;
  }

  // The token arrives in a #token= fragment (never a query string) or from the embedding EHR.
  function widgetToken(onToken) {
    var hash = window.location.hash.replace(/^#/, "");
    if (hash) {
      var params = new URLSearchParams(hash);
      if (params.get("token")) {
        setToken(params.get("token"));
        history.replaceState(null, "", window.location.pathname + window.location.search);
      }
    }
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent || !allowedOrigin(event.origin)) return;
      var data = event.data;
      if (!data || data.type !== "amdsync:token" || typeof data.token !== "string") return;
      if (data.token === getToken()) return;
      setToken(data.token);
      onToken();
    });
    if (window.parent !== window) window.parent.postMessage({ type: "amdsync:ready", widget: page }, "*");
    if (getToken()) onToken();
    else {
      var box = $("widget");
      busy(box, false);
      clear(box).appendChild(el("p", { className: "hint", text: "Waiting for sign-in from the EHR…" }));
    }
  }

  function widgetParam(name) {
    return new URLSearchParams(window.location.search).get(name) || "";
  }

  function missingParam(box, name) {
    busy(box, false);
    clear(box).appendChild(el("p", { className: "message bad", text: "This widget needs ?" + name + "= in its address." }));
  }

  // Only a web address AdvancedMD documents would be linked; there is none today (amdLink
  // stays null), so the card shows the visit id with a button that copies it.
  function safeLink(url) {
    return /^https:/i.test(url || "") ? url : null;
  }

  function copyButton(text, label) {
    var button = el("button", { type: "button", className: "secondary", text: label });
    button.addEventListener("click", function () {
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () {});
      else {
        var range = document.createRange();
        range.selectNodeContents($("visit-id"));
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
    return button;
  }

  function widgetError(box, error) {
    busy(box, false);
    var note = el("div", { role: "alert" });
    say(note, plain(error), "bad");
    clear(box).appendChild(note);
  }

  function waitForResult(path, isDone, tries) {
    return sleep(1000)
      .then(function () {
        return api("GET", path);
      })
      .then(function (record) {
        if (isDone(record) || tries <= 1) return record;
        return waitForResult(path, isDone, tries - 1);
      });
  }

  function queuedText(reply) {
    var text = "Queued";
    if (reply.queuePosition) text += " (position " + reply.queuePosition + ", about " + duration(reply.estimatedWaitSeconds) + ")";
    return text + ". Checking for the result…";
  }

  function renderAppointment(box, record) {
    busy(box, false);
    clear(box);
    var list = el("dl");
    fact(list, "Status", "");
    list.lastChild.appendChild(syncBadge(record, { id: "sync-status" }));
    fact(list, "AdvancedMD visit", record.advancedMDVisitId ? "" : "not created yet");
    if (record.advancedMDVisitId) list.lastChild.appendChild(el("code", { id: "visit-id", text: record.advancedMDVisitId }));
    fact(list, "Last synced", when(record.lastSyncedToAMD));
    fact(list, "EHR status", statusWords(record.status));
    fact(list, "Starts", wallTime(record.start, record.timeZone));
    box.appendChild(list);
    if (record.amdSyncError || record.amdSyncErrorCode) {
      box.appendChild(el("div", { className: "message bad", role: "alert", text: "Sync problem: " + problemText(record.amdSyncErrorCode, record.amdSyncError) }));
    }
    var actions = el("div", { className: "actions" });
    var link = safeLink(record.amdLink);
    if (record.advancedMDVisitId && link) {
      actions.appendChild(el("a", { href: link, target: "_blank", rel: "noopener noreferrer", text: "View in AdvancedMD" }));
    } else if (record.advancedMDVisitId) {
      actions.appendChild(copyButton(record.advancedMDVisitId, "Copy visit id"));
    }
    var result = el("div", { className: "message", role: "status", "aria-live": "polite", hidden: true });
    if (atLeast("billing")) {
      var label = record.advancedMDVisitId ? "Re-sync to AdvancedMD" : "Create in AdvancedMD";
      var button = el("button", { type: "button", className: "primary", id: "sync-button", text: label });
      button.addEventListener("click", function () {
        button.disabled = true;
        var path = "/appointments/" + encodeURIComponent(record.appointmentId);
        api("POST", path + "/sync")
          .then(function (reply) {
            say(result, queuedText(reply));
            return waitForResult(path + "/sync-status", function (r) { return r.amdSyncStatus !== "pending"; }, 30);
          })
          .then(
            function (latest) {
              renderAppointment(box, latest);
              var again = $("sync-button");
              if (again) again.focus();
            },
            function (error) {
              explain(result, error);
              button.disabled = false;
            }
          );
      });
      actions.appendChild(button);
    } else {
      box.appendChild(el("p", { className: "hint", text: "Read-only: billing staff can start a sync." }));
    }
    box.appendChild(actions);
    box.appendChild(result);
  }

  function initAppointmentWidget() {
    var box = $("widget");
    var id = widgetParam("appointmentId");
    if (!id) return missingParam(box, "appointmentId");
    widgetToken(function () {
      busy(box, true);
      api("GET", "/appointments/" + encodeURIComponent(id) + "/sync-status").then(
        function (record) {
          renderAppointment(box, record);
        },
        function (error) {
          widgetError(box, error);
        }
      );
    });
  }

  function renderPatient(box, record) {
    busy(box, false);
    clear(box);
    var list = el("dl");
    fact(list, "Status", "");
    list.lastChild.appendChild(statusBadge(record.amdSyncStatus, { id: "sync-status" }));
    fact(list, "AdvancedMD patient", record.advancedMDPatientId || "not in AdvancedMD yet");
    fact(list, "Last synced", when(record.lastSyncedToAMD));
    box.appendChild(list);
    if (record.amdSyncError || record.amdSyncErrorCode) {
      box.appendChild(el("div", { className: "message bad", role: "alert", text: "Sync problem: " + problemText(record.amdSyncErrorCode, record.amdSyncError) }));
    }
    var result = el("div", { className: "message", role: "status", "aria-live": "polite", hidden: true });
    var path = "/patients/" + encodeURIComponent(record.patientId);
    if (atLeast("billing")) {
      var button = el("button", { type: "button", className: "primary", id: "sync-button", text: "Sync patient to AdvancedMD" });
      button.addEventListener("click", function () {
        button.disabled = true;
        api("POST", path + "/sync")
          .then(function (reply) {
            say(result, queuedText(reply));
            return waitForResult(path + "/sync-status", function (r) { return r.amdSyncStatus !== "pending"; }, 30);
          })
          .then(
            function (latest) {
              renderPatient(box, latest);
            },
            function (error) {
              explain(result, error);
              button.disabled = false;
            }
          );
      });
      box.appendChild(el("div", { className: "actions" }, [button]));
      box.appendChild(result);
      var history = el("section", { className: "history", "aria-labelledby": "history-heading" }, [
        el("h2", { id: "history-heading", text: "Sync history" }),
        el("p", { className: "loading", text: "Loading history…" }),
      ]);
      box.appendChild(history);
      api("GET", path + "/sync-logs?limit=10").then(
        function (data) {
          history.removeChild(history.lastChild);
          var items = data.items || [];
          if (!items.length) {
            history.appendChild(el("p", { className: "empty", text: "No sync attempts yet." }));
            return;
          }
          history.appendChild(
            el("table", null, [
              el("thead", null, [el("tr", null, ["When", "Operation", "Outcome", "Details"].map(function (h) { return el("th", { scope: "col", text: h }); }))]),
              el("tbody", null, items.map(function (e) {
                return el("tr", null, [
                  el("td", { text: when(e.at) }),
                  el("td", { text: OPERATION_WORDS[e.operation] || humanize(e.operation) }),
                  el("td", null, [statusBadge(e.outcome)]),
                  el("td", { text: problemText(e.errorCode, e.message) || "—" }),
                ]);
              })),
            ])
          );
        },
        function (error) {
          history.removeChild(history.lastChild);
          history.appendChild(el("p", { className: "hint", text: plain(error) }));
        }
      );
    } else {
      box.appendChild(el("p", { className: "hint", text: "Read-only: billing staff can start a sync and see the history." }));
    }
  }

  function initPatientWidget() {
    var box = $("widget");
    var id = widgetParam("patientId");
    if (!id) return missingParam(box, "patientId");
    widgetToken(function () {
      busy(box, true);
      api("GET", "/patients/" + encodeURIComponent(id) + "/sync-status").then(
        function (record) {
          renderPatient(box, record);
        },
        function (error) {
          widgetError(box, error);
        }
      );
    });
  }

  function initBadge() {
    var box = $("widget");
    var id = widgetParam("appointmentId");
    if (!id) return missingParam(box, "appointmentId");
    widgetToken(function () {
      api("GET", "/appointments/" + encodeURIComponent(id) + "/sync-status").then(
        function (record) {
          busy(box, false);
          clear(box);
          var tip = badgeTip(record);
          var badge = syncBadge(record, { tabindex: "0", title: tip || null, id: "sync-status" });
          if (tip) badge.appendChild(el("span", { className: "visually-hidden", text: ": " + tip }));
          box.appendChild(el("span", { className: "badge" }, [badge]));
        },
        function (error) {
          busy(box, false);
          clear(box).appendChild(statusBadge("unknown", { title: plain(error), tabindex: "0" }));
          box.lastChild.appendChild(el("span", { className: "visually-hidden", text: ": " + plain(error) }));
        }
      );
    });
  }

  // ------------------------------------------------------------------ demo EHR

  function initDemoEhr() {
    var list = $("demo-day-list");
    if (!getToken()) {
      explain($("page-message"), new ApiError(401, null));
      clear(list);
      return;
    }
    $("demo-day").value = widgetParam("day") || todayInPractice();
    $("demo-ids").value = widgetParam("appointments");
    // The widgets are same-origin here, but the page still hands them the token the way an
    // embedding EHR on another origin would.
    window.addEventListener("message", function (event) {
      var data = event.data;
      if (event.origin !== window.location.origin || !data || data.type !== "amdsync:ready" || !event.source) return;
      event.source.postMessage({ type: "amdsync:token", token: getToken() }, window.location.origin);
    });
    $("demo-form").addEventListener("submit", function (event) {
      event.preventDefault();
      loadDay();
    });
    loadDay();
  }

  function loadDay() {
    var list = $("demo-day-list");
    var day = $("demo-day").value;
    var typed = $("demo-ids").value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    clear(list).appendChild(el("li", { className: "loading", text: "Loading the day…" }));
    var ids = typed.length
      ? Promise.resolve(typed)
      : api("GET", "/schedule?date=" + encodeURIComponent(day)).then(function (data) {
          return (data.items || []).map(function (i) { return i.appointmentId; }).filter(Boolean);
        });
    ids
      .then(function (appointmentIds) {
        return Promise.all(
          appointmentIds.map(function (id) {
            return api("GET", "/appointments/" + encodeURIComponent(id) + "/sync-status").then(
              function (r) { return r; },
              function () { return { appointmentId: id, start: "", patientId: "" }; }
            );
          })
        );
      })
      .then(
        function (records) {
          clear(list);
          if (!records.length) {
            list.appendChild(el("li", { className: "empty", text: "No appointments linked to the EHR on this day. Type appointment ids above." }));
            return;
          }
          records.sort(function (a, b) { return String(a.start).localeCompare(String(b.start)); });
          records.forEach(function (r) {
            var time = clock(r.start);
            var details = el("button", { type: "button", className: "secondary", text: "Details" });
            details.setAttribute("aria-label", "Details for appointment " + r.appointmentId);
            details.addEventListener("click", function () {
              showDetail(r);
            });
            list.appendChild(
              el("li", { "data-appointment-id": r.appointmentId }, [
                el("span", { className: "time", text: time }),
                el("span", { text: "Appointment " + r.appointmentId + (r.providerId ? " · " + r.providerId : "") }),
                el("iframe", {
                  src: "../widgets/badge?appointmentId=" + encodeURIComponent(r.appointmentId),
                  title: "AdvancedMD sync status of appointment " + r.appointmentId,
                  loading: "lazy",
                }),
                details,
              ])
            );
          });
        },
        function (error) {
          showFailure(list, error, "li");
        }
      );
  }

  function showDetail(record) {
    var box = clear($("demo-detail"));
    box.appendChild(
      el("iframe", {
        className: "appointment-card",
        src: "../widgets/appointment?appointmentId=" + encodeURIComponent(record.appointmentId),
        title: "Appointment " + record.appointmentId + " sync card",
      })
    );
    if (record.patientId) {
      box.appendChild(
        el("iframe", {
          className: "patient-card",
          src: "../widgets/patient?patientId=" + encodeURIComponent(record.patientId),
          title: "Patient " + record.patientId + " sync card",
        })
      );
    }
  }

  // ------------------------------------------------------------------ a provider's day

  function dayRow(record) {
    var tip = badgeTip(record);
    var badge = syncBadge(record, { title: tip || null });
    var row = el("li", { "data-appointment-id": record.appointmentId }, [
      el("span", { className: "time", text: clock(record.start) }),
      el("span", { className: "grow", text: "Appointment " + record.appointmentId + " · " + record.providerId }),
      el("span", { className: "ehr-status", text: statusWords(record.status) }),
      badge,
    ]);
    if (record.amdSyncStatus === "error" || record.amdSyncStatus === "conflict") {
      row.appendChild(el("p", { className: "hint row-note", text: tip || "An administrator will look at it." }));
    }
    return row;
  }

  function loadMyDay() {
    var list = $("day-list");
    var day = $("day-date").value || todayInPractice();
    var provider = $("day-provider").value;
    busy(list, true);
    clear(list).appendChild(el("li", { className: "loading", text: "Loading the day…" }));
    var query = "?date=" + encodeURIComponent(day) + (provider ? "&providerId=" + encodeURIComponent(provider) : "");
    return api("GET", "/schedule" + query)
      .then(
        function (data) {
          $("day-heading").textContent = "Appointments on " + dayName(data.date);
          var select = $("day-provider");
          var chosen = select.value;
          while (select.options.length > 1) select.remove(1);
          data.providerIds.forEach(function (id) {
            select.appendChild(el("option", { value: id, text: id, selected: id === chosen }));
          });
          clear(list);
          if (!data.items.length) {
            list.appendChild(el("li", { className: "empty", text: "No appointments registered for " + dayName(data.date) + "." }));
            return;
          }
          data.items.forEach(function (record) {
            list.appendChild(dayRow(record));
          });
        },
        function (error) {
          showFailure(list, error, "li");
        }
      )
      .then(function () {
        busy(list, false);
      });
  }

  function initMyDay() {
    if (!guard("provider", "providers and practice staff")) {
      clear($("day-list"));
      busy($("day-list"), false);
      return;
    }
    $("day-date").value = widgetParam("date") || todayInPractice();
    $("day-form").addEventListener("submit", function (event) {
      event.preventDefault();
      loadMyDay();
    });
    loadMyDay();
  }

  // ------------------------------------------------------------------ billing's sync status

  function renderSyncStatus(data) {
    var cards = clear($("cards"));
    var queue = el("dl");
    fact(queue, "Estimated wait", duration(data.queue.estimatedWaitSeconds));
    fact(queue, "Last pull from AdvancedMD", when(data.lastPull));
    cards.appendChild(
      el("article", { className: "card", "aria-label": "Queue" }, [
        el("h3", { text: "Queue" }),
        el("p", { className: "big" }, [String(data.queue.depth), el("span", { className: "visually-hidden", text: " waiting" })]),
        el("p", { className: "hint", text: "Sync jobs waiting" }),
        queue,
      ])
    );
    cards.appendChild(statusCard("Appointments", data.appointments));
    cards.appendChild(statusCard("Patients", data.patients));
  }

  function loadSyncStatus() {
    var cards = $("cards");
    busy(cards, true);
    return api("GET", "/sync/status")
      .then(renderSyncStatus, function (error) {
        showFailure(cards, error, "div", "message");
      })
      .then(function () {
        busy(cards, false);
      });
  }

  function initSyncStatus() {
    if (!guard("billing", "billing staff and administrators")) {
      clear($("cards"));
      busy($("cards"), false);
      return;
    }
    $("bulk-from").value = todayInPractice();
    $("bulk-to").value = plusDays(todayInPractice(), 6);
    $("refresh-status").addEventListener("click", loadSyncStatus);
    initManualSync();
    loadSyncStatus();
  }

  // ------------------------------------------------------------------ start

  var INIT = {
    "sign-in": initSignIn,
    "my-day": initMyDay,
    "sync-status": initSyncStatus,
    dashboard: initDashboard,
    conflicts: initConflicts,
    mappings: initMappings,
    settings: initSettings,
    "demo-ehr": initDemoEhr,
    "widget-appointment": initAppointmentWidget,
    "widget-patient": initPatientWidget,
    "widget-badge": initBadge,
  };

  initChrome();
  if (INIT[page]) INIT[page]();

  // Helpers for the pages with scripts of their own (webhooks.js, ops.js), loaded after this one.
  window.amdsync = {
    $: $, el: el, clear: clear, show: show, say: say, busy: busy, explain: explain, guard: guard,
    when: when, duration: duration, statusBadge: statusBadge, withButton: withButton, api: api,
    pager: pager,
    atLeast: atLeast,
    wallTime: wallTime, statusWords: statusWords, errorWords: errorWords, problemText: problemText,
    humanize: humanize, me: me,
  };
})();
