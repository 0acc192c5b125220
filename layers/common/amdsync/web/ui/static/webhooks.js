/*
 * The Webhooks page (admin): subscriptions, the secret shown once, enable/disable, delete,
 * the delivery log and a test ping. Uses app.js's helpers (window.amdsync); no inline code.
 */
(function () {
  "use strict";

  if (document.body.getAttribute("data-page") !== "webhooks" || !window.amdsync) return;
  var A = window.amdsync;
  var $ = A.$;
  var el = A.el;

  var EVENTS = [
    ["appointment.changed", "An appointment changed in AdvancedMD"],
    ["appointment.synced", "An appointment reached AdvancedMD"],
    ["appointment.sync_failed", "An appointment could not be synced"],
    ["patient.synced", "A patient reached AdvancedMD"],
    ["patient.sync_failed", "A patient could not be synced"],
    ["conflict.opened", "A conflict needs a decision"],
  ];
  var STATES = { delivered: "Delivered", pending: "Retrying", failed: "Failed" };
  var ERRORS = {
    HTTP_STATUS: "the receiver answered with an error",
    TIMEOUT: "the receiver did not answer in time",
    CONNECT_FAILED: "the receiver could not be reached",
    DNS_FAILED: "the receiver's name did not resolve",
    URL_NOT_ALLOWED: "the address is not public https",
    DISABLED: "the webhook was paused",
    NO_SECRET: "the webhook has no secret",
  };
  var shown = { id: null, cursor: null };

  function path(id, rest) {
    return "/webhooks/" + encodeURIComponent(id) + (rest || "");
  }

  function eventLabel(value) {
    var found = EVENTS.filter(function (e) { return e[0] === value; })[0];
    return found ? found[1] : value === "ping" ? "Test ping" : value;
  }

  function eventPicker() {
    var box = $("w-events");
    EVENTS.forEach(function (event, i) {
      var id = "w-event-" + i;
      box.appendChild(el("div", { className: "field check" }, [
        el("input", { type: "checkbox", id: id, name: "events", value: event[0], checked: true }),
        el("label", { for: id }, [event[1] + " ", el("code", { text: event[0] })]),
      ]));
    });
  }

  function load() {
    var list = $("webhooks");
    A.busy(list, true);
    return A.api("GET", "/webhooks").then(
      function (data) {
        A.clear(list);
        A.busy(list, false);
        if (!data.items.length) {
          list.appendChild(el("p", { text: "No webhooks yet. Add one below." }));
          return;
        }
        list.appendChild(el("div", { className: "table-wrap" }, [el("table", null, [
          el("thead", null, [el("tr", null, ["Name", "Receiver", "Events", "Status", "Actions"].map(function (h) {
            return el("th", { scope: "col", text: h });
          }))]),
          el("tbody", null, data.items.map(row)),
        ])]));
      },
      function (error) {
        A.clear(list);
        A.busy(list, false);
        A.explain($("page-message"), error);
      }
    );
  }

  function row(hook) {
    var toggle = el("button", { type: "button", className: "secondary", text: hook.enabled ? "Pause" : "Resume" });
    toggle.setAttribute("aria-label", (hook.enabled ? "Pause " : "Resume ") + hook.webhookId);
    toggle.addEventListener("click", function () {
      A.withButton(toggle, function () {
        var body = { url: hook.url, events: hook.events, enabled: !hook.enabled };
        return A.api("PUT", path(hook.webhookId), body).then(load, report);
      });
    });
    var ping = el("button", { type: "button", className: "secondary", text: "Send test ping" });
    ping.setAttribute("aria-label", "Send a test ping to " + hook.webhookId);
    ping.addEventListener("click", function () {
      A.withButton(ping, function () {
        return A.api("POST", path(hook.webhookId, "/test"), {}).then(function (d) {
          var ok = d.state === "delivered";
          A.say($("page-message"), ok
            ? "Test ping delivered to " + hook.webhookId + " (answer " + d.lastStatusCode + ", " + d.latencyMs + " ms)."
            : "Test ping to " + hook.webhookId + " failed: " + failure(d) + ".", ok ? "ok" : "bad");
          if (shown.id === hook.webhookId) deliveries(hook.webhookId, null);
        }, report);
      });
    });
    var log = el("button", { type: "button", className: "secondary", text: "Deliveries" });
    log.setAttribute("aria-label", "Deliveries of " + hook.webhookId);
    log.addEventListener("click", function () { deliveries(hook.webhookId, null); });
    var remove = el("button", { type: "button", className: "danger", text: "Delete" });
    remove.setAttribute("aria-label", "Delete " + hook.webhookId);
    remove.addEventListener("click", function () {
      if (!window.confirm("Delete the webhook " + hook.webhookId + "? Its receiver gets nothing more.")) return;
      A.withButton(remove, function () {
        return A.api("DELETE", path(hook.webhookId)).then(function () {
          A.say($("page-message"), "Webhook " + hook.webhookId + " deleted.", "ok");
          if (shown.id === hook.webhookId) A.show($("deliveries-panel"), false);
          return load();
        }, report);
      });
    });
    return el("tr", { "data-webhook-id": hook.webhookId }, [
      el("th", { scope: "row", text: hook.webhookId }),
      el("td", null, [el("code", { text: hook.url })]),
      el("td", { text: hook.events.map(eventLabel).join("; ") }),
      el("td", null, [el("span", { className: "status status-" + (hook.enabled ? "synced" : "skipped"), text: hook.enabled ? "Sending" : "Paused" })]),
      el("td", { className: "actions" }, [ping, log, toggle, remove]),
    ]);
  }

  function failure(d) {
    var why = ERRORS[d.errorCode] || "no answer";
    return d.lastStatusCode ? why + " (" + d.lastStatusCode + ")" : why;
  }

  function deliveries(id, cursor) {
    shown.id = id;
    var panel = $("deliveries-panel");
    var box = $("deliveries");
    $("deliveries-heading").textContent = "Deliveries of " + id;
    A.show(panel, true);
    if (!cursor) A.clear(box);
    var query = cursor ? "?cursor=" + encodeURIComponent(cursor) : "";
    return A.api("GET", path(id, "/deliveries") + query).then(function (page) {
      shown.cursor = page.nextCursor;
      A.show($("deliveries-more"), Boolean(page.nextCursor));
      if (!page.items.length && !cursor) {
        box.appendChild(el("p", { text: "Nothing sent yet." }));
        return;
      }
      box.appendChild(el("div", { className: "table-wrap" }, [el("table", null, [
        el("thead", null, [el("tr", null, ["Event", "Sent", "Outcome", "Attempts", "Answer", "Time taken", "Next try"].map(function (h) {
          return el("th", { scope: "col", text: h });
        }))]),
        el("tbody", null, page.items.map(function (d) {
          return el("tr", { "data-event-id": d.eventId }, [
            el("td", { text: eventLabel(d.type) }),
            el("td", { text: A.when(d.lastAttemptAt || d.createdAt) }),
            el("td", { text: (STATES[d.state] || d.state) + (d.state === "delivered" ? "" : ": " + failure(d)) }),
            el("td", { text: String(d.attempts) }),
            el("td", { text: d.lastStatusCode ? String(d.lastStatusCode) : "none" }),
            el("td", { text: d.latencyMs === null ? "–" : d.latencyMs + " ms" }),
            el("td", { text: d.nextRetryAt ? A.when(d.nextRetryAt) : "–" }),
          ]);
        })),
      ])]));
    }, report);
  }

  function report(error) {
    A.explain($("page-message"), error);
  }

  function create(event) {
    event.preventDefault();
    var form = $("webhook-form");
    var result = $("webhook-result");
    var id = $("w-id").value.trim();
    var events = Array.prototype.slice.call(form.querySelectorAll("input[name=events]:checked")).map(function (i) {
      return i.value;
    });
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) {
      A.say(result, "Give the webhook a name of letters, digits, - or _.", "bad");
      $("w-id").focus();
      return;
    }
    if (!events.length) {
      A.say(result, "Pick at least one event to send.", "bad");
      return;
    }
    var body = { url: $("w-url").value.trim(), events: events, enabled: $("w-enabled").checked };
    var button = form.querySelector("button[type=submit]");
    A.withButton(button, function () {
      return A.api("PUT", path(id), body).then(function (created) {
        if (created && created.secret) {
          $("secret-owner").textContent = created.webhookId;
          $("secret-value").value = created.secret;
          A.show($("secret-panel"), true);
          $("secret-value").focus();
          $("secret-value").select();
          A.say(result, "Webhook " + created.webhookId + " added.", "ok");
        } else {
          A.say(result, "Webhook " + id + " updated (its secret is unchanged).", "ok");
        }
        form.reset();
        return load();
      }, function (error) {
        A.explain(result, error);
      });
    });
  }

  function init() {
    if (!A.guard("admin", "practice administrators")) return;
    eventPicker();
    $("webhook-form").addEventListener("submit", create);
    $("secret-done").addEventListener("click", function () {
      $("secret-value").value = "";
      A.show($("secret-panel"), false);
    });
    $("deliveries-more").addEventListener("click", function () {
      if (shown.id && shown.cursor) deliveries(shown.id, shown.cursor);
    });
    load();
  }

  init();
})();
