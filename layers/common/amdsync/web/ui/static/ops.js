/*
 * The operator pages: Failed work and Audit trail. Uses app.js's helpers (window.amdsync);
 * data is written with textContent / DOM nodes only. Times show in the practice's zone.
 */
(function () {
  "use strict";

  var A = window.amdsync;
  if (!A) return;
  var $ = A.$;
  var el = A.el;
  var page = document.body.getAttribute("data-page") || "";

  var ACTIONS = {
    failed_work_retry: "Retried failed work",
    failed_work_retry_all: "Retried all failed work",
    failed_work_discard: "Discarded failed work",
    settings_update: "Replaced the settings",
    settings_patch: "Changed settings",
    test_connection: "Tested the AdvancedMD connection",
    mapping_update: "Changed a mapping",
    conflict_resolve: "Resolved a conflict",
    bulk_sync_start: "Started a bulk sync",
    bulk_sync_cancel: "Cancelled a bulk sync",
  };
  var ENTITIES = {
    appointment: "Appointment",
    patient: "Patient",
    settings: "Settings",
    conflict: "Conflict",
    bulk: "Bulk work",
    pull: "Pull",
    charge: "Charge",
  };
  var CODES = {
    AMD_UNAVAILABLE: "AdvancedMD unavailable",
    RATE_LIMITED: "Too many calls to AdvancedMD",
    AMD_AUTH_FAILED: "AdvancedMD sign-in refused",
    INTERNAL: "Unexpected error",
  };
  var OUTCOMES = { success: "Done", error: "Failed", skipped: "Skipped", deferred: "Postponed", conflict: "Conflict" };

  // The practice's wall time, with its zone's short name ("Dec 5, 2026, 10:02 AM MST").
  function practiceTime(value, zone) {
    var date = new Date(value);
    if (isNaN(date.getTime())) return String(value);
    var options = { dateStyle: "medium", timeStyle: "short" };
    try {
      var text = date.toLocaleString(undefined, zone ? Object.assign({ timeZone: zone }, options) : options);
      var name = date
        .toLocaleTimeString(undefined, zone ? { timeZone: zone, timeZoneName: "short" } : { timeZoneName: "short" })
        .split(" ")
        .pop();
      return text + " " + name;
    } catch (e) {
      return A.when(value);
    }
  }

  function table(headers, rows) {
    return el("div", { className: "table-wrap" }, [
      el("table", null, [
        el("thead", null, [el("tr", null, headers.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
        el("tbody", null, rows),
      ]),
    ]);
  }

  // ------------------------------------------------------------------ failed work

  function initFailedWork() {
    var box = $("failed");
    if (!A.guard("billing", "billing staff and administrators") || !A.atLeast("billing")) {
      A.busy(box, false);
      A.clear(box);
      return;
    }
    var zone = box.getAttribute("data-zone") || "";
    var retryAll = $("failed-retry-all");
    var list = A.pager(box, $("failed-more"), function (cursor) {
      return A.api("GET", "/sync/failed?limit=50" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    }, render);

    A.show(retryAll, A.atLeast("admin"));

    function render() {
      A.clear(box);
      if (!list.items.length) {
        box.appendChild(el("p", { className: "empty", text: "✓ No failed work. Every sync is either done or still being tried." }));
        A.show(retryAll, false);
        return;
      }
      A.show(retryAll, A.atLeast("admin"));
      box.appendChild(
        table(["Failed at", "What", "Problem", "Tries", ""], list.items.map(row))
      );
    }

    function row(job) {
      var actions = el("div", { className: "actions" });
      var retry = el("button", { type: "button", className: "primary", text: "Retry" });
      retry.addEventListener("click", function () {
        retry.disabled = true;
        A.api("POST", "/sync/failed/" + encodeURIComponent(job.jobId) + "/retry").then(
          function () {
            drop(job);
            A.say($("page-message"), ENTITIES[job.entityType] + " " + job.entityId + " is queued again.", "ok");
          },
          function (error) {
            retry.disabled = false;
            A.explain($("page-message"), error);
          }
        );
      });
      actions.appendChild(retry);
      if (A.atLeast("admin")) actions.appendChild(discardControl(job));
      return el("tr", { "data-job": job.jobId }, [
        el("td", { text: practiceTime(job.failedAt, zone) }),
        el("td", { text: (ENTITIES[job.entityType] || job.entityType) + " " + job.entityId }),
        el("td", null, [
          el("div", { text: job.error }),
          el("small", { className: "hint", text: (CODES[job.errorCode] || "Error") + " (" + job.errorCode + ")" }),
        ]),
        el("td", { className: "num", text: String(job.attempts) }),
        el("td", null, [actions]),
      ]);
    }

    function discardControl(job) {
      var wrap = el("span");
      var open = el("button", { type: "button", className: "danger", text: "Discard…" });
      var id = "reason-" + job.jobId;
      var form = el("form", { className: "inline-form", hidden: true }, [
        el("label", { for: id, text: "Reason" }),
        el("input", { id: id, maxlength: "200", required: true, autocomplete: "off" }),
        el("button", { type: "submit", className: "danger", text: "Discard" }),
      ]);
      open.addEventListener("click", function () {
        A.show(form, true);
        A.show(open, false);
        $(id).focus();
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var reason = $(id).value.trim();
        if (!reason) {
          A.say($("page-message"), "Please give a reason for discarding.", "bad");
          return;
        }
        A.api("DELETE", "/sync/failed/" + encodeURIComponent(job.jobId), { reason: reason }).then(
          function () {
            drop(job);
            A.say($("page-message"), ENTITIES[job.entityType] + " " + job.entityId + " was discarded.", "ok");
          },
          function (error) {
            A.explain($("page-message"), error);
          }
        );
      });
      wrap.appendChild(open);
      wrap.appendChild(form);
      return wrap;
    }

    function drop(job) {
      list.items = list.items.filter(function (j) { return j.jobId !== job.jobId; });
      render();
    }

    retryAll.addEventListener("click", function () {
      retryAll.disabled = true;
      A.api("POST", "/sync/failed/retry-all").then(
        function (data) {
          retryAll.disabled = false;
          A.say($("page-message"), data.queued + " failed " + (data.queued === 1 ? "sync is" : "syncs are") + " queued again.", "ok");
          list.load(true);
        },
        function (error) {
          retryAll.disabled = false;
          A.explain($("page-message"), error);
        }
      );
    });
    $("failed-refresh").addEventListener("click", function () { list.load(true); });
    list.load(true);
  }

  // ------------------------------------------------------------------ audit trail

  function initAudit() {
    var box = $("audit");
    if (!A.guard("admin", "practice administrators") || !A.atLeast("admin")) {
      A.busy(box, false);
      A.clear(box);
      A.show($("audit-filters"), false);
      return;
    }
    var zone = box.getAttribute("data-zone") || "";
    var actionSelect = $("audit-action");
    var list = A.pager(box, $("audit-more"), function (cursor) {
      return A.api("GET", "/audit" + query(cursor));
    }, render);

    Object.keys(ACTIONS).forEach(function (key) {
      actionSelect.appendChild(el("option", { value: key, text: ACTIONS[key] }));
    });

    function query(cursor) {
      var params = [["limit", "50"]];
      [
        ["entityType", "audit-entity-type"],
        ["entityId", "audit-entity-id"],
        ["actor", "audit-actor"],
        ["action", "audit-action"],
        ["from", "audit-from"],
        ["to", "audit-to"],
      ].forEach(function (pair) {
        var value = $(pair[1]).value.trim();
        if (value) params.push([pair[0], value]);
      });
      if (cursor) params.push(["cursor", cursor]);
      return "?" + params.map(function (p) { return p[0] + "=" + encodeURIComponent(p[1]); }).join("&");
    }

    function details(entry) {
      var keys = Object.keys(entry.details || {});
      return keys.map(function (k) { return k + ": " + entry.details[k]; }).join(", ");
    }

    function render() {
      A.clear(box);
      if (!list.items.length) {
        box.appendChild(el("p", { className: "empty", text: "Nothing recorded for these filters." }));
        return;
      }
      box.appendChild(
        table(
          ["When", "Who", "What", "Record", "Outcome", "Details"],
          list.items.map(function (e) {
            return el("tr", null, [
              el("td", { text: practiceTime(e.at, zone) }),
              el("td", { text: e.actor.subject + " (" + e.actor.role + ")" }),
              el("td", { text: ACTIONS[e.action] || e.action }),
              el("td", { text: (ENTITIES[e.entityType] || e.entityType) + " " + e.entityId }),
              el("td", { text: OUTCOMES[e.outcome] || e.outcome }),
              el("td", { text: details(e) }),
            ]);
          })
        )
      );
    }

    $("audit-filters").addEventListener("submit", function (event) {
      event.preventDefault();
      A.say($("page-message"), "");
      list.load(true);
    });
    list.load(true);
  }

  if (page === "failed-work") initFailedWork();
  if (page === "audit") initAudit();
})();
